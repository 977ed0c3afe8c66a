package multichan

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
)

// Default targets of the system's ArchGym objectives: a makespan and a
// power that the default four-channel system reaches only through a narrow
// set of designs (see docs/environments.md for how they were chosen).
const (
	DefaultTargetTimeNS  = 150000.0
	DefaultTargetPowerMW = 5000.0
)

// EnvConfig is the multi-channel task as run files describe it
// ([env.multichan] of experiments). DefaultEnvConfig holds its defaults;
// the struct tags document it (see experiments.Config for their meaning).
type EnvConfig struct {
	Traces        []string `toml:"traces" range:"1 to 8 names (stream, random, cloud-1, cloud-2) or .stl paths (relative to the working directory)" doc:"one trace per channel; the number of traces is the number of channels C (10 C knobs, one agent each)"`
	Objective     string   `toml:"objective" range:"latency|power|energy|edp|archgym_latency|archgym_power" doc:"what the agents optimise on the system's metrics (makespan = slowest channel, energy = sum, power = energy / makespan)"`
	TargetTimeNS  float64  `toml:"target_time_ns" unit:"ns" range:"(0, inf)" doc:"makespan target T of archgym_latency"`
	TargetPowerMW float64  `toml:"target_power_mw" unit:"mW" range:"(0, inf)" doc:"power target P of archgym_power"`
	Form          string   `toml:"form" range:"bandit|revision|search" doc:"bandit = episodes revise the design from the all-first-values start; revision = episodes start from a random design with some knobs pinned (envs.RevisionEnv); search = episodes start from one of the best designs evaluated so far with all knobs but free (the key) pinned, each proposing a child of that parent (envs.RevisionEnv, start elite)"`
	EpisodeLen    int      `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode"`
	Pinned        float64  `toml:"pinned" unit:"fraction of knobs" range:"[0, 1)" doc:"form = revision: fraction of the knobs pinned at their start value in each episode"`
	Credit        string   `toml:"credit" range:"shared|difference|improvement" doc:"form = revision or search: shared or difference rewards (as for env.dram); improvement (form = search) = every agent receives the child's improvement over its parent when positive and the child is new, else 0"`
	Elite         int      `toml:"elite" unit:"designs" range:"[1, 4096]" doc:"form = search: the parents are the elite best designs evaluated so far (drawn uniformly)"`
	Free          int      `toml:"free" unit:"knobs" range:"[1, knobs]" doc:"form = search: knobs each episode may change (the others keep the parent's values)"`
	Stall         int      `toml:"stall" unit:"unique evaluations" range:"[0, inf)" doc:"form = search: once this many unique evaluations pass without a new best, half of the episodes start from a uniformly drawn design with no knob pinned (random immigrants) until the best improves; 0 = never"`
	FirstGen      int      `toml:"first_gen" unit:"designs" range:"[0, 4096]" doc:"form = search: 0 = the first iteration's episodes start from their own uniform designs with every knob free; n > 0 = from a first generation of n uniform designs drawn from the run's seed, with free knobs as later"`
	FirstStart    string   `toml:"first_start" range:"uniform|reference" doc:"form = search, first_gen = 0: how the first iteration's episodes start while the archive holds fewer than elite designs: uniform = each from its own uniform design with every knob free (two evaluations per episode: the start and its child); reference = from the reference design with every knob free (one evaluation per episode: the policy's own proposal, as in the bandit form's first iteration)"`
	FreeLaw       float64  `toml:"free_law" range:"[0, 10]" doc:"form = search: 0 = every child may change exactly free knobs; > 0 = each child's count k is drawn from 1..free with P(k) proportional to k^-free_law (heavy-tailed mutation, Doerr et al. 2017, who use 1.5): mostly one or two knobs, now and then many"`
	CrossRate     float64  `toml:"cross_rate" unit:"probability" range:"[0, 1]" doc:"form = search: the probability that an episode from an archive parent starts from a uniform crossover of it with a second archive member (each knob from either with probability 1/2), the parent's metrics standing for the start (no extra evaluation); the policy then changes the free knobs as usual; 0 = no crossover"`
	FreeWithin    string   `toml:"free_within" range:"any|channel" doc:"form = search: where each child's free knobs are drawn: any = from all knobs; channel = from one channel drawn uniformly (the channels are independent blocks: a child changes one channel and keeps the others' settings)"`
}

// DefaultEnvConfig returns the defaults of EnvConfig: four channels on the
// stream, random, cloud-1 and cloud-2 traces, minimum latency, the default
// targets, the bandit form.
func DefaultEnvConfig() EnvConfig {
	return EnvConfig{Traces: DefaultTraces(), Objective: "latency", TargetTimeNS: DefaultTargetTimeNS,
		TargetPowerMW: DefaultTargetPowerMW, Form: "bandit", EpisodeLen: 1, Pinned: 0.5, Credit: "shared", Elite: 8, Free: 2, Stall: 500, FirstStart: "uniform", FreeWithin: "any"}
}

// Validate reports every field out of range, each error starting with its
// key.
func (c EnvConfig) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	if len(c.Traces) < 1 || len(c.Traces) > MaxChannels {
		bad("traces", c.Traces, fmt.Sprintf("want 1 to %d traces (one per channel)", MaxChannels))
	}
	for i, t := range c.Traces {
		if t == "" {
			bad(fmt.Sprintf("traces[%d]", i), `""`, "name a trace or an .stl file")
		}
	}
	errs = append(errs, envs.CheckFormKeys(c.Form, c.Pinned, c.Credit)...)
	errs = append(errs, envs.CheckSearchKeys(c.Elite, c.Free, c.Stall, c.FirstGen, c.FirstStart, dram.NumKnobs*max(len(c.Traces), 1))...)
	if err := envs.CheckFreeLaw(c.FreeLaw); err != nil {
		errs = append(errs, err)
	}
	if err := envs.CheckCrossRate(c.CrossRate); err != nil {
		errs = append(errs, err)
	}
	if c.FreeWithin != "any" && c.FreeWithin != "channel" {
		bad("free_within", fmt.Sprintf("%q", c.FreeWithin), `must be "any" or "channel"`)
	}
	if !slices.Contains(Objectives(), c.Objective) {
		bad("objective", c.Objective, fmt.Sprintf("want one of %v", Objectives()))
	}
	if !(c.TargetPowerMW > 0) || math.IsInf(c.TargetPowerMW, 0) {
		bad("target_power_mw", c.TargetPowerMW, "must be > 0")
	}
	if !(c.TargetTimeNS > 0) || math.IsInf(c.TargetTimeNS, 0) {
		bad("target_time_ns", c.TargetTimeNS, "must be > 0")
	}
	if c.EpisodeLen < 1 || c.EpisodeLen > 1000 {
		bad("episode_len", c.EpisodeLen, "must be in [1, 1000]")
	}
	return errors.Join(errs...)
}

// ObjectiveConfig returns the objective c names: the DRAM space's preset
// (the system has the same metric names), with c's target for the ArchGym
// forms.
func (c EnvConfig) ObjectiveConfig() (envs.ObjectiveConfig, error) {
	if !slices.Contains(Objectives(), c.Objective) {
		return envs.ObjectiveConfig{}, fmt.Errorf("unknown objective %q (have %v)", c.Objective, Objectives())
	}
	oc, err := envs.ObjectivePreset(c.Objective)
	if err != nil {
		return oc, err
	}
	switch c.Objective {
	case "archgym_latency":
		oc.Targets = []float64{c.TargetTimeNS}
	case "archgym_power":
		oc.Targets = []float64{c.TargetPowerMW}
	}
	return oc, nil
}

// Optimum returns the exact optimum of the system of the given traces under
// obj (bound to the system's metrics; c names its kind and targets), from
// the shipped channel summaries (Solve). It returns nil and no error when a
// trace has no shipped summary (a trace file).
func (c EnvConfig) Optimum(traces []string, obj *envs.Objective) (*envs.Optimum, error) {
	chans := make([][]Point, len(traces))
	for i, t := range traces {
		if !slices.Contains(SummaryTraces(), t) {
			return nil, nil
		}
		s, err := LoadSummary(t)
		if err != nil {
			return nil, err
		}
		chans[i] = s.Points
	}
	sol, err := Solve(chans, c.Objective, c.TargetTimeNS, c.TargetPowerMW)
	if err != nil {
		return nil, err
	}
	return sol.Optimum(obj), nil
}

// Optimum describes the solution as an envs.Optimum: its knobs named as in
// the Space, the system's metrics and obj's value of them.
func (s *Solution) Optimum(obj *envs.Objective) *envs.Optimum {
	m := s.Metrics()
	o := &envs.Optimum{Value: obj.Value(m), Knobs: map[string]string{}, Metrics: map[string]float64{}}
	knobs := dram.Knobs()
	for c, p := range s.Points {
		for k, v := range ChannelConfig(p.Index) {
			o.Knobs[KnobName(c, knobs[k].Name)] = knobs[k].Values[v]
		}
	}
	for j, name := range metricNames {
		o.Metrics[name] = m[j]
	}
	return o
}

// FreeGroups returns the knob groups of free_within for a system of the
// given number of channels: nil for "any", one group per channel (its
// dram.NumKnobs knobs, in the space's order) for "channel".
func (c EnvConfig) FreeGroups(channels int) [][]int {
	if c.FreeWithin != "channel" {
		return nil
	}
	g := make([][]int, channels)
	for ch := range g {
		for k := range dram.NumKnobs {
			g[ch] = append(g[ch], ch*dram.NumKnobs+k)
		}
	}
	return g
}
