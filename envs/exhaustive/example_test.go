package exhaustive_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/commgraph/commgraph/envs/exhaustive"
	"github.com/commgraph/commgraph/envs/synthetic"
)

// Sweep a space exhaustively, then measure which knob pairs interact.
func Example() {
	space := synthetic.MustNew(synthetic.Config{
		Values: []int{3, 4, 2, 5},
		Pairs:  []synthetic.Pair{{A: 1, B: 3, S: 1}},
		Seed:   1,
	})
	dir, _ := os.MkdirTemp("", "sweep-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "syn.sweep")

	st, err := exhaustive.Run(context.Background(), space, path, exhaustive.Options{Jobs: 2})
	if err != nil {
		panic(err)
	}
	t, err := exhaustive.Read(path)
	if err != nil {
		panic(err)
	}
	r, err := exhaustive.ComputeInteractions(t, []string{synthetic.MetricExpY})
	if err != nil {
		panic(err)
	}
	top := r.Metrics[0].Top(1)[0]
	fmt.Println(st.Evaluated, "configurations")
	fmt.Printf("strongest pair: %s x %s (%.0f%% of the variance of log exp_y)\n", top.A, top.B, 100*top.Share)
	// Output:
	// 120 configurations
	// strongest pair: k1 x k3 (20% of the variance of log exp_y)
}
