package experiments

import (
	"fmt"
	"math"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/synthetic"
)

// The synthetic landscape with a planted interaction graph:
// [env.synthetic] is synthetic.EnvConfig.
func init() {
	RegisterDesignSpace("synthetic", synthetic.DefaultEnvConfig(), buildSynthetic)
}

// maxEnumerate bounds the synthetic spaces whose optimum is found by
// enumeration when the task is built.
const maxEnumerate = 1 << 20

func buildSynthetic(c synthetic.EnvConfig, run RunInfo) (*DesignProblem, error) {
	space, err := synthetic.New(c.Space())
	if err != nil {
		return nil, err
	}
	obj, err := envs.ObjectiveConfig{Name: "min_exp_y", Kind: envs.KindMinimize, Metrics: []string{synthetic.MetricExpY}}.Bind(space.MetricNames())
	if err != nil {
		return nil, err
	}
	p := &DesignProblem{Label: space.Name(), Space: space, Objective: obj,
		// Observe only exp(y): y itself can be zero or negative at the
		// start design, and the environment observes logs of metrics
		// relative to it.
		Env: envs.SpaceEnvConfig{EpisodeLength: c.EpisodeLen, ObsMetrics: []string{synthetic.MetricExpY}}}
	switch c.Form {
	case "revision":
		p.Revision = &envs.RevisionConfig{Length: c.EpisodeLen, Pinned: c.Pinned,
			ObsMetrics: []string{synthetic.MetricExpY}, Oracle: space.Oracle,
			Credit: c.Credit, Counterfactual: space.Evaluate, AgentID: c.AgentID}
	case "search":
		// Counterfactuals of difference rewards are charged here (a
		// search's designs are its budget).
		p.Revision = &envs.RevisionConfig{Length: c.EpisodeLen, ObsMetrics: []string{synthetic.MetricExpY},
			Credit: c.Credit, AgentID: c.AgentID, Start: "elite", Elite: c.Elite, Free: c.Free, Stall: c.Stall, FirstGen: c.FirstGen, FirstStart: c.FirstStart, Seed: run.Seed}
	}
	if best, y, err := space.BestGiven(free(len(space.Knobs()))); err == nil {
		// The exact optimum by variable elimination over the planted pairs
		// (any size; the objective minimises exp(y), i.e. y).
		p.Optimum = &envs.Optimum{Value: math.Exp(y), Knobs: map[string]string{}, Metrics: map[string]float64{synthetic.MetricY: y, synthetic.MetricExpY: math.Exp(y)}}
		for i, k := range space.Knobs() {
			p.Optimum.Knobs[k.Name] = k.Values[best[i]]
		}
	} else if n := envs.Size(space); n <= maxEnumerate {
		if p.Optimum, err = envs.FindOptimum(space, obj); err != nil {
			return nil, err
		}
	} else {
		p.NoOptimum = fmt.Sprintf("the optimum is not known: %v, and the space (%s designs) is larger than the %d designs enumerated at most", err, sizeText(n), maxEnumerate)
	}
	return p, nil
}

// sizeText renders a space size from envs.Size (which saturates).
func sizeText(n int) string {
	if n == math.MaxInt {
		return "more than 2^63"
	}
	return fmt.Sprint(n)
}

// free returns n entries of -1 (no knob pinned).
func free(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = -1
	}
	return p
}
