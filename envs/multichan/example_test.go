package multichan_test

import (
	"fmt"

	"github.com/commgraph/commgraph/envs/multichan"
)

// The exact latency and EDP optima of the default four-channel system.
func ExampleSolve() {
	var chans [][]multichan.Point
	for _, tr := range multichan.DefaultTraces() {
		s, err := multichan.LoadSummary(tr)
		if err != nil {
			panic(err)
		}
		chans = append(chans, s.Points)
	}
	for _, obj := range []string{"latency", "edp"} {
		sol, err := multichan.Solve(chans, obj, 0, 0)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: makespan %.1f ns, energy %.4g pJ, exact %v\n", obj, sol.TimeNS, sol.EnergyPJ, sol.Exact)
	}
	// Output:
	// latency: makespan 75077.5 ns, energy 6.431e+08 pJ, exact true
	// edp: makespan 75077.5 ns, energy 6.43e+08 pJ, exact true
}
