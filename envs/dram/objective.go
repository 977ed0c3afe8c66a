package dram

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/commgraph/commgraph/envs"
)

// ObjectiveNames lists the objectives an EnvConfig can name: the presets
// of envs (latency, power, energy, edp, archgym_power, archgym_latency,
// archgym_both) and constrained_power (minimise power subject to a makespan
// limit).
func ObjectiveNames() []string {
	return append(envs.ObjectivePresetNames(), "constrained_power")
}

// EnvConfig is the DRAM design-space task as run files describe it
// ([env.dram] of experiments): a trace, an objective and the episode form.
// DefaultEnvConfig holds its defaults; the struct tags document it (see
// experiments.Config for their meaning).
type EnvConfig struct {
	Trace         string  `toml:"trace" path:"name-or-file" range:"stream|random|cloud-1|cloud-2 or a path to an .stl file" doc:"the workload trace"`
	Objective     string  `toml:"objective" range:"latency|power|energy|edp|archgym_power|archgym_latency|archgym_both|constrained_power" doc:"what the agents optimise (see docs/environments)"`
	TargetPowerMW float64 `toml:"target_power_mw" unit:"mW" range:"(0, inf)" doc:"ArchGym power target T (objectives archgym_power, archgym_both)"`
	TargetTimeNS  float64 `toml:"target_time_ns" unit:"ns" range:"(0, inf)" doc:"ArchGym makespan target T (objectives archgym_latency, archgym_both)"`
	TimeLimitNS   float64 `toml:"time_limit_ns" unit:"ns" range:"[0, inf)" doc:"makespan constraint of constrained_power (required there, > 0)"`
	ArchGymCompat bool    `toml:"archgym_latency_compat" range:"true|false" doc:"reproduce the ArchGym parser's ps-read-as-ns quirk (for comparison with published runs only)"`
	EpisodeLen    int     `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode; 1 = the bandit form"`
	OptimumFile   string  `toml:"optimum_file" path:"file" range:"a path or empty" doc:"JSON of the exhaustive optimum used for regret; empty = the shipped one for this trace and objective"`
}

// DefaultEnvConfig returns the defaults of EnvConfig: the stream trace,
// minimum latency, ArchGym's targets (1 W, 100 us), the bandit form.
func DefaultEnvConfig() EnvConfig {
	return EnvConfig{Trace: "stream", Objective: "latency", TargetPowerMW: envs.ArchGymPowerTargetMW,
		TargetTimeNS: envs.ArchGymTimeTargetNs, EpisodeLen: 1}
}

// Validate reports every field out of range, each error starting with its
// key.
func (c EnvConfig) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	if c.Trace == "" {
		bad("trace", `""`, "name a trace or an .stl file")
	}
	if !slices.Contains(ObjectiveNames(), c.Objective) {
		bad("objective", c.Objective, fmt.Sprintf("want one of %v", ObjectiveNames()))
	}
	if !(c.TargetPowerMW > 0) || math.IsInf(c.TargetPowerMW, 0) {
		bad("target_power_mw", c.TargetPowerMW, "must be > 0")
	}
	if !(c.TargetTimeNS > 0) || math.IsInf(c.TargetTimeNS, 0) {
		bad("target_time_ns", c.TargetTimeNS, "must be > 0")
	}
	switch {
	case !(c.TimeLimitNS >= 0) || math.IsInf(c.TimeLimitNS, 0):
		bad("time_limit_ns", c.TimeLimitNS, "must be >= 0")
	case c.Objective == "constrained_power" && c.TimeLimitNS == 0:
		bad("time_limit_ns", c.TimeLimitNS, "constrained_power needs a makespan limit > 0")
	case c.Objective != "constrained_power" && c.TimeLimitNS != 0:
		bad("time_limit_ns", c.TimeLimitNS, "applies to objective constrained_power only")
	}
	if c.EpisodeLen < 1 || c.EpisodeLen > 1000 {
		bad("episode_len", c.EpisodeLen, "must be in [1, 1000]")
	}
	return errors.Join(errs...)
}

// ObjectiveConfig returns the objective c names, with its targets, limit
// and the compat quirk.
func (c EnvConfig) ObjectiveConfig() (envs.ObjectiveConfig, error) {
	if c.Objective == "constrained_power" {
		return envs.ObjectiveConfig{Name: "constrained_power", Kind: envs.KindConstrained, Metrics: []string{MetricPowerMW},
			Constraints: []envs.Constraint{{Metric: MetricTimeNS, Max: c.TimeLimitNS}}, ArchGymLatencyCompat: c.ArchGymCompat}, nil
	}
	oc, err := envs.ObjectivePreset(c.Objective)
	if err != nil {
		return oc, err
	}
	if oc.Kind == envs.KindTarget {
		for _, m := range oc.Metrics {
			switch m {
			case MetricPowerMW:
				oc.Targets = append(oc.Targets, c.TargetPowerMW)
			case MetricTimeNS:
				oc.Targets = append(oc.Targets, c.TargetTimeNS)
			}
		}
	}
	oc.ArchGymLatencyCompat = c.ArchGymCompat
	return oc, nil
}

// ShippedOptimum reports whether the optimum files shipped with the DRAM
// space (package optimum) cover c's objective: a preset with ArchGym's
// default targets and without the compat quirk.
func (c EnvConfig) ShippedOptimum() bool {
	if c.Objective == "constrained_power" || c.ArchGymCompat {
		return false
	}
	d := DefaultEnvConfig()
	switch c.Objective {
	case "archgym_power":
		return c.TargetPowerMW == d.TargetPowerMW
	case "archgym_latency":
		return c.TargetTimeNS == d.TargetTimeNS
	case "archgym_both":
		return c.TargetPowerMW == d.TargetPowerMW && c.TargetTimeNS == d.TargetTimeNS
	}
	return true
}
