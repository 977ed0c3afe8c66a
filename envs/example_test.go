package envs_test

import (
	"fmt"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/predprey"
	"github.com/commgraph/commgraph/envs/synthetic"
)

// Twenty copies of predator-prey stepped together; a truncated copy is
// bootstrapped from its terminal observation.
func ExampleVec() {
	v := envs.NewVec(predprey.MustNew(predprey.Easy()), 20, envs.VecConfig{Seed: 1})
	defer v.Close()
	b := v.NewBuffers()
	v.Reset(b)
	done := 0
	for range 20 { // the easy cap is 20 steps, so every copy finishes once
		for i := range b.Actions {
			b.Actions[i] = predprey.Stay
		}
		v.Step(b)
		for _, r := range b.Results {
			if r.Done() {
				done++ // r.Truncated: bootstrap from b.TerminalObs[k]
			}
		}
	}
	fmt.Println(v.Len(), v.Stride(), done)
	// Output: 20 261 20
}

// A design space as a one-step (bandit) multi-agent environment scored by
// ArchGym-style closeness to a target, with evaluations charged once.
func ExampleNewSpaceEnv() {
	space := envs.NewCounted(synthetic.MustNew(synthetic.DRAMLike(1)))
	obj, err := envs.ObjectiveConfig{Kind: envs.KindTarget, Metrics: []string{synthetic.MetricExpY}, Targets: []float64{0.5}, Cap: envs.DefaultTargetCap}.Bind(space.MetricNames())
	if err != nil {
		panic(err)
	}
	env, err := envs.NewSpaceEnv(space, envs.SpaceEnvConfig{Objective: obj, EpisodeLength: 1, ObsMetrics: []string{synthetic.MetricExpY}})
	if err != nil {
		panic(err)
	}
	s := env.Spec()
	obs := make([][]float32, len(s.Agents))
	for i := range obs {
		obs[i] = make([]float32, s.Agents[i].ObsSize)
	}
	rew := make([]float32, len(s.Agents))
	env.Reset(0, obs)
	res := env.Step([]int{1, 0, 2, 7, 1, 0, 3, 3, 1, 5}, obs, rew)
	fmt.Println(len(s.Agents), s.Agents[3].NumActions, s.Agents[3].ObsSize, res.Terminated, space.Unique())
	// Output: 10 8 10 true 2
}
