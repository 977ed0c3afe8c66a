package experiments

import (
	"fmt"
	"strings"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/multichan"
)

// The multi-channel memory system (C DDR3 channels, one trace each, 10 C
// knobs): [env.multichan] is multichan.EnvConfig. The exact optimum of
// every objective comes from the shipped per-trace channel summaries.
func init() {
	RegisterDesignSpace("multichan", multichan.DefaultEnvConfig(), buildMultichan)
}

func buildMultichan(c multichan.EnvConfig, run RunInfo) (*DesignProblem, error) {
	if err := checkTraceMemory("env.multichan.traces", c.Traces, run); err != nil {
		return nil, err
	}
	space, err := multichan.New(c.Traces)
	if err != nil {
		return nil, fmt.Errorf("key env.multichan.traces: %w", err)
	}
	oc, err := c.ObjectiveConfig()
	if err != nil {
		return nil, fmt.Errorf("key env.multichan.objective: %w", err)
	}
	obj, err := oc.Bind(space.MetricNames())
	if err != nil {
		return nil, fmt.Errorf("key env.multichan.objective: %w", err)
	}
	label := fmt.Sprintf("multichan%d-%s-%s", space.Channels(), strings.Join(space.TraceNames(), "+"), c.Objective)
	p := &DesignProblem{Label: label, Space: space, Objective: obj, Env: envs.SpaceEnvConfig{EpisodeLength: c.EpisodeLen}}
	switch c.Form {
	case "revision":
		p.Revision = &envs.RevisionConfig{Length: c.EpisodeLen, Pinned: c.Pinned, Credit: c.Credit}
	case "search":
		p.Revision = &envs.RevisionConfig{Length: c.EpisodeLen, Credit: c.Credit, Start: "elite", Elite: c.Elite, Free: c.Free, Stall: c.Stall, FirstGen: c.FirstGen, FirstStart: c.FirstStart, Seed: run.Seed,
			FreeGroups: c.FreeGroups(space.Channels()), FreeLaw: c.FreeLaw, CrossRate: c.CrossRate}
	}
	if p.Optimum, err = c.Optimum(c.Traces, obj); err != nil {
		return nil, fmt.Errorf("key env.multichan.objective: %w", err)
	}
	return p, nil
}
