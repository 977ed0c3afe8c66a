package optimum_test

import (
	"fmt"

	"github.com/commgraph/commgraph/envs/dram/optimum"
)

// Regret of a design against the shipped exhaustive optimum.
func Example() {
	f, err := optimum.Load("stream")
	if err != nil {
		panic(err)
	}
	best, _ := f.Entry("latency")
	mine := []float64{51595, 85957050, 1666} // time_ns, energy_pJ, power_mW of the default design
	r, err := best.Regret(mine)
	if err != nil {
		panic(err)
	}
	fmt.Printf("optimum %.0f ns (%s)\n", best.Metrics.TimeNS, best.Unit)
	fmt.Printf("regret %.2f%%\n", 100*r)
	// Output:
	// optimum 50025 ns (ns)
	// regret 3.14%
}
