package optimum

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// files holds the shipped optimum JSON files.
//
//go:embed *.json
var files embed.FS

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

// vector returns the metrics in the DRAM space's metric order.
func (m Metrics) vector() []float64 { return []float64{m.TimeNS, m.EnergyPJ, m.PowerMW} }

// ObjectiveNames lists the shipped objectives, in file order: the envs
// objective presets latency, power, energy, edp (minimisation) and
// archgym_power, archgym_latency, archgym_both (ArchGym's target form with
// its defaults: 1 W, 100 us, cap 1000, unscaled, no compat quirk).
func ObjectiveNames() []string {
	return []string{"latency", "power", "energy", "edp", "archgym_power", "archgym_latency", "archgym_both"}
}

// TimeObjectiveNames lists the objectives of a device without an energy
// model (LPDDR4: its energy and power columns are all zero): latency and
// archgym_latency.
func TimeObjectiveNames() []string { return []string{"latency", "archgym_latency"} }

// Bind returns the named objective preset bound to the DRAM metrics.
func Bind(name string) (*envs.Objective, error) {
	c, err := envs.ObjectivePreset(name)
	if err != nil {
		return nil, err
	}
	return c.Bind([]string{dram.MetricTimeNS, dram.MetricEnergyPJ, dram.MetricPowerMW})
}

// Entry is the exhaustive optimum of one objective.
type Entry struct {
	Objective string            `json:"objective"`
	Index     int               `json:"index"`  // configuration index in sweep order
	Config    map[string]string `json:"config"` // knob -> value
	Values    []int             `json:"values"` // value index per knob, in knob order
	Metrics   Metrics           `json:"metrics"`
	// Value is the minimised figure of merit, envs.Objective.Value: the
	// metric (or product) for minimisation, prod |x-T|/T for targets.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Reward is envs.Objective.Reward for the target objectives (0 otherwise).
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
func FromTable(t *exhaustive.Table, command string) (*File, error) {
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
	names := ObjectiveNames()
	if timeOnly(t, ei, pi) {
		names = TimeObjectiveNames()
	}
	for _, name := range names {
		o, err := Bind(name)
		if err != nil {
			return nil, err
		}
		vec := make([]float64, 3)
		load := func(row []float64) []float64 {
			vec[0], vec[1], vec[2] = row[ti], row[ei], row[pi]
			return vec
		}
		idx, val, ties := exhaustive.Best(t, func(row []float64) float64 { return o.Value(load(row)) })
		if idx < 0 {
			return nil, fmt.Errorf("objective %s: no finite value in the sweep", name)
		}
		e := Entry{Objective: name, Index: idx, Value: val, Unit: o.Unit(), Ties: ties,
			Metrics: metrics(t.Row(idx)), Values: t.Config(idx, nil), Config: map[string]string{}}
		for k, v := range e.Values {
			e.Config[t.Knobs[k].Name] = t.Knobs[k].Values[v]
		}
		if o.Kind() == envs.KindTarget {
			e.Reward = o.Reward(e.Metrics.vector())
			capv := o.Config().Cap
			if capv == 0 {
				capv = envs.ArchGymRewardCap
			}
			for i := range t.Len() {
				if o.Reward(load(t.Row(i))) >= capv {
					e.AtCap++
				}
			}
		}
		f.Objectives = append(f.Objectives, e)
	}
	return f, nil
}

// timeOnly reports whether the energy and power columns of t are all zero
// (a device without an energy model): objectives on them would tie every
// configuration and are left out.
func timeOnly(t *exhaustive.Table, ei, pi int) bool {
	for i := range t.Len() {
		if row := t.Row(i); row[ei] != 0 || row[pi] != 0 {
			return false
		}
	}
	return true
}

// JSON returns the file as indented JSON.
func (f *File) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Traces lists the shipped optima by key: the trace name on the embedded
// DDR3-1600 DIMM (stream), trace@memoryId on another embedded device
// (stream@MICRON_4Gb_DDR4-2400_8bit_A), i.e. the design space's name
// without "dram/".
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

// ForSystem returns the shipped optimum of a trace on a memory system
// (nil, nil: the embedded DDR3-1600 DIMM). Optima are shipped for the
// embedded devices with their default mappings only (dram.IsEmbeddedSystem):
// a memspec that keeps an embedded memoryId but changes a field gets an
// error, not another device's optimum.
func ForSystem(trace string, spec *dram.MemSpec, am *dram.AddressMapping) (*File, error) {
	if !dram.IsEmbeddedSystem(spec, am) {
		return nil, fmt.Errorf("no shipped optimum for trace %q on a memory system other than the embedded devices with their default mappings (%s%s)",
			trace, trace, dram.SystemSuffix(spec, am))
	}
	return Load(trace + dram.SystemSuffix(spec, am))
}

// Load returns the shipped optimum of a trace (a key of Traces).
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

// Regret returns how much worse a design with the given metrics (time_ns,
// energy_pJ, power_mW, in the DRAM space's order) is than the optimum on
// the entry's objective, >= 0 for every design of the space: for the
// minimisation objectives the relative excess Value(x)/Value(opt) - 1
// (0.1 = 10% worse); for the target objectives, whose optimal Value may be
// 0, the absolute excess Value(x) - Value(opt) of the relative distance to
// the target(s).
func (e *Entry) Regret(metrics []float64) (float64, error) {
	o, err := Bind(e.Objective)
	if err != nil {
		return 0, err
	}
	if len(metrics) < 3 {
		return 0, fmt.Errorf("regret: %d metrics, want time_ns, energy_pJ, power_mW", len(metrics))
	}
	v := o.Value(metrics)
	if o.Kind() == envs.KindTarget {
		return v - e.Value, nil
	}
	return v/e.Value - 1, nil
}
