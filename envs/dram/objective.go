package dram

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/commgraph/commgraph/envs"
)

// ArchGym's defaults (Krishnan et al., "ArchGym: An open-source gymnasium
// for machine learning assisted architecture design", ISCA 2023;
// arch_gym/envs/DRAMEnv_RL.py): targets of 1 W of power and 100 us of
// makespan, and the reward-scaling divisors of its RL environment (power
// rewards /350, latency rewards /20), which the presets leave out.
const (
	ArchGymPowerTargetMW = 1000.0
	ArchGymTimeTargetNs  = 100000.0
	ArchGymPowerScale    = 350.0
	ArchGymTimeScale     = 20.0
)

// The objective presets of the DRAM space, registered with envs: latency,
// power, energy, edp (minimisation) and archgym_power, archgym_latency,
// archgym_both (ArchGym's target form with its default targets and cap,
// unscaled); constrained_power penalises violations by envs.DefaultPenalty.
var objectivePresets = map[string]envs.ObjectiveConfig{
	"latency":         {Name: "latency", Kind: envs.KindMinimize, Metrics: []string{MetricTimeNS}},
	"power":           {Name: "power", Kind: envs.KindMinimize, Metrics: []string{MetricPowerMW}},
	"energy":          {Name: "energy", Kind: envs.KindMinimize, Metrics: []string{MetricEnergyPJ}},
	"edp":             {Name: "edp", Kind: envs.KindMinimize, Metrics: []string{MetricEnergyPJ, MetricTimeNS}},
	"archgym_power":   {Name: "archgym_power", Kind: envs.KindTarget, Metrics: []string{MetricPowerMW}, Targets: []float64{ArchGymPowerTargetMW}, Cap: envs.DefaultTargetCap},
	"archgym_latency": {Name: "archgym_latency", Kind: envs.KindTarget, Metrics: []string{MetricTimeNS}, Targets: []float64{ArchGymTimeTargetNs}, Cap: envs.DefaultTargetCap},
	"archgym_both":    {Name: "archgym_both", Kind: envs.KindTarget, Metrics: []string{MetricPowerMW, MetricTimeNS}, Targets: []float64{ArchGymPowerTargetMW, ArchGymTimeTargetNs}, Cap: envs.DefaultTargetCap},
	// Request-level objectives (reqstats.go; not published by the reference).
	"read_latency":     {Name: "read_latency", Kind: envs.KindMinimize, Metrics: []string{MetricReadLatencyNS}},
	"p99_read_latency": {Name: "p99_read_latency", Kind: envs.KindMinimize, Metrics: []string{MetricReadLatencyP99NS}},
}

// needsRequestMetrics reports whether objective reads a request metric.
func needsRequestMetrics(objective string) bool {
	p, ok := objectivePresets[objective]
	return ok && slices.ContainsFunc(p.Metrics, func(m string) bool { return slices.Contains(requestMetrics, m) })
}

func init() {
	for name, c := range objectivePresets {
		envs.RegisterObjectivePreset(name, c)
	}
}

// ObjectiveNames lists the objectives an EnvConfig can name: the presets
// (latency, power, energy, edp, archgym_power, archgym_latency,
// archgym_both, read_latency, p99_read_latency) and constrained_power (minimise power subject to a makespan
// limit).
func ObjectiveNames() []string {
	var out []string
	for name := range objectivePresets {
		out = append(out, name)
	}
	slices.Sort(out)
	return append(out, "constrained_power")
}

// ArchGymScaleBy returns the ScaleBy of an ArchGym target objective that
// divides like ArchGym's RL environment (350 for power_mW, 20 for time_ns,
// 1 for other metrics).
func ArchGymScaleBy(metrics []string) []float64 {
	out := make([]float64, len(metrics))
	for j, m := range metrics {
		switch m {
		case MetricPowerMW:
			out[j] = ArchGymPowerScale
		case MetricTimeNS:
			out[j] = ArchGymTimeScale
		default:
			out[j] = 1
		}
	}
	return out
}

// ArchGymLatencySeen is the envs.ObjectiveConfig.Seen that reproduces
// ArchGym's parsing of the reference's time output: the reward reads
// time_ns as ArchGymTimeNs does; other metrics are unchanged.
func ArchGymLatencySeen(metric string, x float64) float64 {
	if metric == MetricTimeNS {
		return ArchGymTimeNs(x)
	}
	return x
}

// EnvConfig is the DRAM design-space task as run files describe it
// ([env.dram] of experiments): a trace, an objective and the episode form.
// DefaultEnvConfig holds its defaults; the struct tags document it (see
// experiments.Config for their meaning).
type EnvConfig struct {
	Trace          string  `toml:"trace" path:"name-or-file" range:"stream|random|cloud-1|cloud-2 or a path to an .stl file" doc:"the workload trace"`
	Objective      string  `toml:"objective" range:"latency|power|energy|edp|archgym_power|archgym_latency|archgym_both|read_latency|p99_read_latency|constrained_power" doc:"what the agents optimise (see docs/environments); latency is the makespan, read_latency and p99_read_latency the mean and 99th-percentile read latency"`
	RequestMetrics bool    `toml:"request_metrics" range:"true|false" doc:"also measure read_latency_ns, read_latency_p99_ns, bandwidth_Gbps and utilization per design (on by itself for the read_latency objectives; costs a little simulation time)"`
	TargetPowerMW  float64 `toml:"target_power_mw" unit:"mW" range:"(0, inf)" doc:"ArchGym power target T (objectives archgym_power, archgym_both)"`
	TargetTimeNS   float64 `toml:"target_time_ns" unit:"ns" range:"(0, inf)" doc:"ArchGym makespan target T (objectives archgym_latency, archgym_both)"`
	TimeLimitNS    float64 `toml:"time_limit_ns" unit:"ns" range:"[0, inf)" doc:"makespan constraint of constrained_power (required there, > 0)"`
	ArchGymCompat  bool    `toml:"archgym_latency_compat" range:"true|false" doc:"reproduce the ArchGym parser's ps-read-as-ns quirk (for comparison with published runs only)"`
	Form           string  `toml:"form" range:"bandit|revision|search" doc:"bandit = episodes revise the design from the all-first-values start (ArchGym's, the published form); revision = episodes start from a random design with some knobs pinned (envs.RevisionEnv; rewards measured from the start design); search = episodes start from one of the best designs evaluated so far with all knobs but free (the key) pinned, each proposing a child of that parent (envs.RevisionEnv, start elite)"`
	EpisodeLen     int     `toml:"episode_len" unit:"steps" range:"[1, 1000]" doc:"design revisions per episode; 1 with form = bandit is the published bandit form"`
	Pinned         float64 `toml:"pinned" unit:"fraction of knobs" range:"[0, 1)" doc:"form = revision: fraction of the knobs pinned at their start value in each episode"`
	Credit         string  `toml:"credit" range:"shared|difference|improvement" doc:"form = revision: shared = every agent receives the improvement of the design; difference = agent i receives the score minus the score with its knob left unchanged (difference reward; each counterfactual design is a simulation, charged to the budget); improvement (form = search) = every agent receives the child's improvement over its parent when positive and the child is new, else 0"`
	Elite          int     `toml:"elite" unit:"designs" range:"[1, 4096]" doc:"form = search: the parents are the elite best designs evaluated so far (drawn uniformly)"`
	Free           int     `toml:"free" unit:"knobs" range:"[1, 10]" doc:"form = search: knobs each episode may change (the others keep the parent's values)"`
	Stall          int     `toml:"stall" unit:"unique evaluations" range:"[0, inf)" doc:"form = search: once this many unique evaluations pass without a new best, half of the episodes start from a uniformly drawn design with no knob pinned (random immigrants) until the best improves; 0 = never"`
	FirstGen       int     `toml:"first_gen" unit:"designs" range:"[0, 4096]" doc:"form = search: 0 = the first iteration's episodes start from their own uniform designs with every knob free; n > 0 = from a first generation of n uniform designs drawn from the run's seed, with free knobs as later"`
	FirstStart     string  `toml:"first_start" range:"uniform|reference" doc:"form = search, first_gen = 0: how the first iteration's episodes start while the archive holds fewer than elite designs: uniform = each from its own uniform design with every knob free (two evaluations per episode: the start and its child); reference = from the reference design with every knob free (one evaluation per episode: the policy's own proposal, as in the bandit form's first iteration)"`
	AgentID        bool    `toml:"agent_id" doc:"form = revision: append a one-hot of the agent's index to its observation, so a receiver can tell its senders apart (without it a message says \"some sender has value v\", not whose)"`
	OptimumFile    string  `toml:"optimum_file" path:"file" range:"a path or empty" doc:"JSON of the exhaustive optimum used for regret; empty = the shipped one for this trace, device and objective (the four DSE traces on the embedded DDR3-1600, DDR4-2400 and LPDDR4-3200 devices with their default mappings)"`
	MemSpec        string  `toml:"memspec" path:"name-or-file" range:"a DRAMSys memspec JSON (DDR3, DDR4, LPDDR4) or the name of an embedded one; empty = MICRON_1Gb_DDR3-1600_8bit_G" doc:"the DRAM device (LPDDR4: time only, so objectives on energy or power are refused)"`
	Table          string  `toml:"table" path:"file" range:"a file, a directory or empty" doc:"a complete sweep table of this trace and device (commgraph dram sweep --out FILE), or a directory holding it as dram-<trace>.sweep (dram-<trace>@<memoryId>.sweep for the other devices): designs are looked up instead of simulated, with the same numbers bit for bit (the table's header must name this space and a few seeded designs are re-simulated as a check); for many runs on one trace. Empty = simulate"`
	Mapping        string  `toml:"mapping" path:"name-or-file" range:"a DRAMSys address-mapping JSON or the name of an embedded one; empty = the one shipped for the device's standard" doc:"the address mapping of the device"`
}

// DefaultEnvConfig returns the defaults of EnvConfig: the stream trace,
// minimum latency, ArchGym's targets (1 W, 100 us), the bandit form.
func DefaultEnvConfig() EnvConfig {
	return EnvConfig{Trace: "stream", Objective: "latency", TargetPowerMW: ArchGymPowerTargetMW,
		TargetTimeNS: ArchGymTimeTargetNs, Form: "bandit", EpisodeLen: 1, Pinned: 0.5, Credit: "shared", Elite: 8, Free: 2, Stall: 500, FirstStart: "uniform", AgentID: true}
}

// Validate reports every field out of range, each error starting with its
// key.
func (c EnvConfig) Validate() error {
	var errs []error
	bad := func(key string, v any, want string) { errs = append(errs, fmt.Errorf("%s = %v: %s", key, v, want)) }
	if c.Trace == "" {
		bad("trace", `""`, "name a trace or an .stl file")
	}
	errs = append(errs, envs.CheckFormKeys(c.Form, c.Pinned, c.Credit)...)
	errs = append(errs, envs.CheckSearchKeys(c.Elite, c.Free, c.Stall, c.FirstGen, c.FirstStart, NumKnobs)...)
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
	var oc envs.ObjectiveConfig
	if c.Objective == "constrained_power" {
		oc = envs.ObjectiveConfig{Name: "constrained_power", Kind: envs.KindConstrained, Metrics: []string{MetricPowerMW},
			Constraints: []envs.Constraint{{Metric: MetricTimeNS, Max: c.TimeLimitNS}}, Penalty: envs.DefaultPenalty}
	} else {
		p, ok := objectivePresets[c.Objective]
		if !ok {
			return oc, fmt.Errorf("unknown objective %q (have %v)", c.Objective, ObjectiveNames())
		}
		oc = p
		oc.Metrics = slices.Clone(p.Metrics)
		oc.Targets = nil
		for _, m := range oc.Metrics {
			switch {
			case oc.Kind != envs.KindTarget:
			case m == MetricPowerMW:
				oc.Targets = append(oc.Targets, c.TargetPowerMW)
			case m == MetricTimeNS:
				oc.Targets = append(oc.Targets, c.TargetTimeNS)
			}
		}
	}
	if c.ArchGymCompat {
		oc.Seen = ArchGymLatencySeen
	}
	return oc, nil
}

// Space builds the design space c describes: its trace on its memory
// system. Errors start with the key at fault (trace, memspec, mapping or
// objective): a device without an energy model (LPDDR4) refuses
// objectives on energy or power.
func (c EnvConfig) Space() (*Space, error) {
	spec, am, err := LoadSystem(c.MemSpec, c.Mapping)
	if err != nil {
		return nil, err
	}
	if spec != nil && !spec.HasEnergy() && c.Objective != "latency" && c.Objective != "archgym_latency" && !needsRequestMetrics(c.Objective) {
		return nil, fmt.Errorf("objective: %q needs energy or power, which the %s device %s does not model (time only; use latency, archgym_latency, read_latency or p99_read_latency)",
			c.Objective, spec.Standard, spec.ID)
	}
	s, err := NewTraceSpaceOn(c.Trace, spec, am)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if c.RequestMetrics || needsRequestMetrics(c.Objective) {
		if s, err = s.WithRequestMetrics(); err != nil {
			return nil, fmt.Errorf("request_metrics: %w", err)
		}
	}
	return s, nil
}

// ShippedOptimum reports whether the optimum files shipped with the DRAM
// space (package optimum) can cover c's objective: a preset with ArchGym's
// default targets and without the compat quirk. Whether a file is shipped
// for the trace and memory system (the embedded devices with their default
// mappings) is optimum.ForSystem's to say.
func (c EnvConfig) ShippedOptimum() bool {
	if c.Objective == "constrained_power" || needsRequestMetrics(c.Objective) || c.ArchGymCompat {
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

// SystemCTimeString formats a time given in nanoseconds the way the DRAMSys
// reference prints it: SystemC's sc_time::to_string at the default 1 ps
// resolution strips the trailing decimal zeros of the picosecond count and
// picks the unit from how many it stripped (IEEE 1666 reference
// implementation, sc_time.cpp). So a whole number of nanoseconds prints as
// "N ns" (51595 ns), a time with a fractional nanosecond as picoseconds
// (168947.5 ns -> "168947500 ps"), and a whole number of microseconds as
// "N us" (100000 ns -> "100 us"). Every one of the 1,824 reference runs in
// data/dramsys/*.csv (847 "ns", 977 "ps") matches this rule.
func SystemCTimeString(ns float64) string {
	ps := uint64(math.Round(ns * 1000))
	if ps == 0 {
		return "0 s"
	}
	n := 3 // 1 ps resolution = 10^3 fs
	for ps%10 == 0 {
		ps /= 10
		n++
	}
	s := strconv.FormatUint(ps, 10)
	if n >= 15 {
		return s + strings.Repeat("0", n-15) + " s"
	}
	return s + strings.Repeat("0", n%3) + " " + [...]string{"fs", "ps", "ns", "us", "ms"}[n/3]
}

// ArchGymTimeNs returns the time ArchGym's DRAM environment believes it read
// for a true makespan of ns nanoseconds: it takes the number the reference
// printed (SystemCTimeString) and ignores the unit, treating it as ns
// (ArchGym issue #139). Whole-nanosecond times come back unchanged; a time
// whose picosecond count is not a multiple of 1000 comes back 1000x too
// large (168947.5 -> 168947500); a whole number of microseconds 1000x too
// small (100000 -> 100).
func ArchGymTimeNs(ns float64) float64 {
	ps := uint64(math.Round(ns * 1000))
	if ps == 0 {
		return 0
	}
	n := 0 // zeros stripped beyond the picosecond digit
	for ps%10 == 0 {
		ps /= 10
		n++
	}
	// Printed number = ps * 10^(n mod 3) for the unit 10^(3*floor(n/3)) ps.
	v := float64(ps)
	for range (n + 3) % 3 {
		v *= 10
	}
	if n+3 >= 15 {
		v = float64(ps) * math.Pow(10, float64(n+3-15))
	}
	return v
}
