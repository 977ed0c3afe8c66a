package blackbox_test

import (
	"context"
	"fmt"
	"math"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/synthetic"
	"github.com/commgraph/commgraph/marl/blackbox"
)

// A genetic algorithm minimising exp(f) of a planted landscape with the
// DRAM space's shape, with a budget of 300 unique evaluations (0.07% of the
// 442,368 designs), 30 per iteration.
func Example() {
	space := synthetic.MustNew(synthetic.DRAMLike(1))
	obj, err := envs.ObjectiveConfig{Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
	if err != nil {
		panic(err)
	}
	cfg := blackbox.DefaultConfig()
	cfg.Batch, cfg.Budget = 30, 300
	s, err := blackbox.New(blackbox.KindGenetic, space, obj, cfg, 42)
	if err != nil {
		panic(err)
	}
	for !s.Done() {
		if _, err := s.Iterate(context.Background()); err != nil {
			panic(err)
		}
	}
	best, metrics, _ := s.Best()
	fmt.Println("iterations:", s.Iteration(), "unique evaluations:", s.Space().Unique())
	fmt.Printf("best design %v, f = %.3f\n", best, metrics[0])
	fmt.Printf("exhaustive optimum f = %.3f\n", exhaustiveMin(space))
	// Output:
	// iterations: 10 unique evaluations: 300
	// best design [3 0 0 2 1 1 1 0 0 3], f = -16.080
	// exhaustive optimum f = -16.080
}

// exhaustiveMin enumerates the space (last knob fastest).
func exhaustiveMin(s *synthetic.Space) float64 {
	knobs := s.Knobs()
	c := make([]int, len(knobs))
	best := math.Inf(1)
	for {
		best = min(best, s.F(c))
		i := len(c) - 1
		for ; i >= 0; i-- {
			if c[i]++; c[i] < len(knobs[i].Values) {
				break
			}
			c[i] = 0
		}
		if i < 0 {
			return best
		}
	}
}
