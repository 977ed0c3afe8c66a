package single_test

import (
	"context"
	"fmt"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/synthetic"
	"github.com/commgraph/commgraph/marl/single"
)

// Single-agent PPO on a planted landscape, 200 evaluations at most.
func ExampleNewPPO() {
	space := synthetic.MustNew(synthetic.Config{Values: []int{4, 4, 4, 4, 4, 4},
		Pairs: []synthetic.Pair{{A: 0, B: 1, S: 1}}, Seed: 3})
	obj, err := envs.ObjectiveConfig{Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
	if err != nil {
		panic(err)
	}
	o := single.DefaultPPO()
	o.Batch, o.Budget = 20, 200
	s, err := single.NewPPO(space, obj, o, 1)
	if err != nil {
		panic(err)
	}
	for !s.Done() && s.Iteration() < 100 {
		if _, err := s.Iterate(context.Background()); err != nil {
			panic(err)
		}
	}
	_, m, _ := s.Best()
	fmt.Printf("%d unique evaluations, best y %.3f\n", s.Space().Unique(), m[0])
	// Output: 200 unique evaluations, best y -9.147
}
