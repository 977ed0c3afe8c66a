// Package optimum owns the exhaustive optima of the DRAM design space: for
// each DSE trace (stream, random, cloud-1, cloud-2) and each objective, the
// best of all 442,368 controller configurations as found by a full sweep
// (envs/sweep), shipped as small JSON files (embedded in the binary) so
// that any method's result can be scored by its regret at run time.
//
// The files in this directory are generated, never edited; each records the
// command that produced it:
//
//	commgraph dram sweep --trace NAME --out runs/sweep/dram-NAME.sweep --best-json envs/dram/optimum/NAME.json
package optimum

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/sweep"
)

//go:embed *.json
var files embed.FS

// ArchGym target-form constants (ArchGym's DRAM environment, spec section 6).
const (
	PowerTargetMW   = 1000   // 1 W
	LatencyTargetNS = 100000 // 100 us of makespan
	RewardCap       = 1000   // T/|x-T| is capped here
)

// Metrics are the physical metrics of one configuration.
type Metrics struct {
	TimeNS   float64 `json:"time_ns"`
	EnergyPJ float64 `json:"energy_pJ"`
	PowerMW  float64 `json:"power_mW"`
	EDP      float64 `json:"edp"` // time_ns * energy_pJ
}

// NewMetrics fills EDP from time and energy.
func NewMetrics(timeNS, energyPJ, powerMW float64) Metrics {
	return Metrics{TimeNS: timeNS, EnergyPJ: energyPJ, PowerMW: powerMW, EDP: timeNS * energyPJ}
}

// Objective is one of the shipped objectives. Loss is minimised by the
// optimum; for the target forms it is the distance |x - T|, whose minimiser
// also maximises the capped ArchGym reward.
type Objective struct {
	Name       string
	Definition string
	Loss       func(Metrics) float64
}

// Target reward of ArchGym: T/|x-T| capped at RewardCap.
func targetReward(x, target float64) float64 {
	d := math.Abs(x - target)
	if d == 0 {
		return RewardCap
	}
	return math.Min(target/d, RewardCap)
}

// Objectives returns the shipped objectives in their fixed order: latency,
// power, energy, edp, archgym_power, archgym_latency.
func Objectives() []Objective {
	return []Objective{
		{"latency", "minimise time_ns (makespan)", func(m Metrics) float64 { return m.TimeNS }},
		{"power", "minimise power_mW (average power)", func(m Metrics) float64 { return m.PowerMW }},
		{"energy", "minimise energy_pJ", func(m Metrics) float64 { return m.EnergyPJ }},
		{"edp", "minimise time_ns * energy_pJ", func(m Metrics) float64 { return m.EDP }},
		{"archgym_power", "maximise min(T/|power-T|, 1000) with T = 1000 mW; ranked by |power_mW - 1000|",
			func(m Metrics) float64 { return math.Abs(m.PowerMW - PowerTargetMW) }},
		{"archgym_latency", "maximise min(T/|time-T|, 1000) with T = 100000 ns; ranked by |time_ns - 100000|",
			func(m Metrics) float64 { return math.Abs(m.TimeNS - LatencyTargetNS) }},
	}
}

// Entry is the exhaustive optimum of one objective.
type Entry struct {
	Objective  string            `json:"objective"`
	Definition string            `json:"definition"`
	Index      int               `json:"index"`  // configuration index in sweep order
	Config     map[string]string `json:"config"` // knob -> value
	Values     []int             `json:"values"` // value index per knob, in knob order
	Metrics    Metrics           `json:"metrics"`
	Loss       float64           `json:"loss"` // the minimised quantity
	// Reward is the capped ArchGym reward for the target objectives (0 otherwise).
	Reward float64 `json:"reward,omitempty"`
	// Ties counts configurations with exactly the optimal loss; AtCap counts
	// those reaching the reward cap (target objectives only).
	Ties  int `json:"ties"`
	AtCap int `json:"at_cap,omitempty"`
}

// File is the shipped optimum of one trace.
type File struct {
	Trace      string  `json:"trace"`
	Space      string  `json:"space"`
	Configs    int64   `json:"configs"`
	Command    string  `json:"command"`
	Note       string  `json:"note"`
	Objectives []Entry `json:"objectives"`
}

// FromTable computes the optimum of every objective over a complete DRAM
// sweep table; command is recorded verbatim.
func FromTable(t *sweep.Table, command string) (*File, error) {
	ti, ei, pi := t.MetricIndex(dram.MetricTimeNS), t.MetricIndex(dram.MetricEnergyPJ), t.MetricIndex(dram.MetricPowerMW)
	if ti < 0 || ei < 0 || pi < 0 {
		return nil, fmt.Errorf("sweep of %s lacks time_ns, energy_pJ or power_mW (has %v)", t.Space, t.Metrics)
	}
	knobs := dram.Knobs()
	if len(t.Knobs) != len(knobs) || t.Configs != 442368 {
		return nil, fmt.Errorf("sweep of %s is not the full DRAM space (%d knobs, %d configurations)", t.Space, len(t.Knobs), t.Configs)
	}
	for k, kn := range knobs {
		if t.Knobs[k].Name != kn.Name || strings.Join(t.Knobs[k].Values, ",") != strings.Join(kn.Values, ",") {
			return nil, fmt.Errorf("sweep of %s: knob %d is %s%v, want %s%v", t.Space, k, t.Knobs[k].Name, t.Knobs[k].Values, kn.Name, kn.Values)
		}
	}
	metrics := func(row []float64) Metrics { return NewMetrics(row[ti], row[ei], row[pi]) }
	f := &File{
		Trace:   strings.TrimPrefix(t.Space, "dram/"),
		Space:   t.Space,
		Configs: t.Configs,
		Command: command,
		Note:    "exhaustive optimum over all configurations of the embedded simulator (envs/dram); ties go to the lowest configuration index (last knob fastest)",
	}
	for _, o := range Objectives() {
		idx, loss, ties := sweep.Best(t, func(row []float64) float64 { return o.Loss(metrics(row)) })
		if idx < 0 {
			return nil, fmt.Errorf("objective %s: no finite value in the sweep", o.Name)
		}
		e := Entry{Objective: o.Name, Definition: o.Definition, Index: idx, Loss: loss, Ties: ties,
			Metrics: metrics(t.Row(idx)), Values: t.Config(idx, nil), Config: map[string]string{}}
		for k, v := range e.Values {
			e.Config[t.Knobs[k].Name] = t.Knobs[k].Values[v]
		}
		if target, ok := targetOf(o.Name, e.Metrics); ok {
			e.Reward = targetReward(target[0], target[1])
			for i := range t.Len() {
				m, _ := targetOf(o.Name, metrics(t.Row(i)))
				if targetReward(m[0], m[1]) >= RewardCap {
					e.AtCap++
				}
			}
		}
		f.Objectives = append(f.Objectives, e)
	}
	return f, nil
}

// targetOf returns (x, T) of a target objective.
func targetOf(name string, m Metrics) ([2]float64, bool) {
	switch name {
	case "archgym_power":
		return [2]float64{m.PowerMW, PowerTargetMW}, true
	case "archgym_latency":
		return [2]float64{m.TimeNS, LatencyTargetNS}, true
	}
	return [2]float64{}, false
}

// JSON returns the file as indented JSON.
func (f *File) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Traces lists the traces with a shipped optimum.
func Traces() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Load returns the shipped optimum of a trace.
func Load(trace string) (*File, error) {
	data, err := files.ReadFile(trace + ".json")
	if err != nil {
		return nil, fmt.Errorf("no shipped optimum for trace %q (have: %s)", trace, strings.Join(Traces(), ", "))
	}
	return Parse(data, trace+".json")
}

// Parse decodes an optimum file; name is used in errors.
func Parse(data []byte, name string) (*File, error) {
	var f File
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, e := range f.Objectives {
		if len(e.Values) != dram.NumKnobs {
			return nil, fmt.Errorf("%s: objective %s has %d knob values, want %d", name, e.Objective, len(e.Values), dram.NumKnobs)
		}
	}
	return &f, nil
}

// Entry returns the optimum of the named objective.
func (f *File) Entry(objective string) (*Entry, error) {
	for i := range f.Objectives {
		if f.Objectives[i].Objective == objective {
			return &f.Objectives[i], nil
		}
	}
	names := make([]string, len(f.Objectives))
	for i, e := range f.Objectives {
		names[i] = e.Objective
	}
	return nil, fmt.Errorf("trace %s: no optimum for objective %q (have: %s)", f.Trace, objective, strings.Join(names, ", "))
}

// DramConfig returns the optimum as a simulator configuration.
func (e *Entry) DramConfig() (dram.Config, error) {
	var c dram.Config
	if len(e.Values) != dram.NumKnobs {
		return c, fmt.Errorf("objective %s: %d knob values", e.Objective, len(e.Values))
	}
	copy(c[:], e.Values)
	return c, c.Validate()
}
