package envs

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Objective kinds.
const (
	// KindTarget is ArchGym's "closeness to a target" reward (Krishnan et
	// al., "ArchGym: An open-source gymnasium for machine learning assisted
	// architecture design", ISCA 2023; arch_gym/envs/DRAMEnv_RL.py):
	// per metric T/|x-T|, optionally divided by a scale, multiplied over the
	// metrics (power x latency = ArchGym's "both") and capped.
	KindTarget = "target"
	// KindMinimize minimises the product of the listed metrics (one metric,
	// or e.g. energy_pJ x time_ns = EDP); reward -log(x/x_ref).
	KindMinimize = "minimize"
	// KindConstrained is KindMinimize subject to upper bounds on other
	// metrics; violations are penalised in proportion to their relative size.
	KindConstrained = "constrained"
)

// DefaultTargetCap is the usual cap of a target objective's reward
// (ObjectiveConfig.Cap): ArchGym's 1000.
const DefaultTargetCap = 1000.0

// ArchGymRewardCap is DefaultTargetCap under its former name.
const ArchGymRewardCap = DefaultTargetCap

// DefaultPenalty is the usual constrained-objective penalty
// (ObjectiveConfig.Penalty): reward lost per unit of relative violation. 10 makes a 10% violation cost one unit of
// log-reward, i.e. as much as being e times worse on the minimised metric.
const DefaultPenalty = 10.0

// Constraint bounds a metric from above: metric <= Max.
type Constraint struct {
	Metric string  `toml:"metric" json:"metric"`
	Max    float64 `toml:"max" json:"max"`
}

// ObjectiveConfig is a plain (TOML/JSON-decodable) description of an
// objective. Bind resolves its metric names against a design space.
type ObjectiveConfig struct {
	// Name labels the objective in reports; "" derives one from the fields.
	Name string `toml:"name" json:"name,omitempty"`
	// Kind is KindTarget, KindMinimize or KindConstrained.
	Kind string `toml:"kind" json:"kind"`
	// Metrics: target: the metrics whose closeness rewards multiply;
	// minimize/constrained: the metrics whose product is minimised.
	Metrics []string `toml:"metrics" json:"metrics"`
	// Targets (KindTarget), one per metric, in the metric's units (> 0).
	Targets []float64 `toml:"targets" json:"targets,omitempty"`
	// ScaleBy (KindTarget) divides each metric's T/|x-T| by its entry
	// (> 0); empty = 1 for every metric.
	ScaleBy []float64 `toml:"scale_by" json:"scale_by,omitempty"`
	// Cap (KindTarget, > 0) bounds the reward (usually DefaultTargetCap).
	Cap float64 `toml:"cap" json:"cap,omitempty"`
	// Reference (minimize/constrained) gives one reference value per metric;
	// the reward is -log(prod x / prod ref). Empty: WithReference sets it
	// (SpaceEnv uses the starting design); otherwise the reference is 1.
	Reference []float64 `toml:"reference" json:"reference,omitempty"`
	// Constraints (KindConstrained only).
	Constraints []Constraint `toml:"constraints" json:"constraints,omitempty"`
	// Penalty (KindConstrained): reward subtracted per unit of relative
	// violation sum_c max(0, (m_c - Max_c)/Max_c), >= 0 (usually
	// DefaultPenalty; 0 ranks feasible designs first without penalising the
	// reward).
	Penalty float64 `toml:"penalty" json:"penalty,omitempty"`
	// Seen, when set, maps a metric's true value to the value the reward
	// (and the reference) sees, e.g. to reproduce another tool's misreading
	// of a simulator's output (dram.ArchGymLatencySeen). Reported values
	// (Objective.Value, Violation, Feasible) stay in true physical units.
	Seen func(metric string, x float64) float64 `toml:"-" json:"-"`
}

// objectivePresets holds the named objectives that the packages of design
// spaces register (the DRAM space registers latency, power, energy, edp and
// ArchGym's target forms).
var (
	presetMu         sync.RWMutex
	objectivePresets = map[string]ObjectiveConfig{}
)

// RegisterObjectivePreset makes c available as ObjectivePreset(name);
// registering a name again replaces it.
func RegisterObjectivePreset(name string, c ObjectiveConfig) {
	presetMu.Lock()
	defer presetMu.Unlock()
	c.Metrics = slices.Clone(c.Metrics)
	objectivePresets[name] = c
}

// ObjectivePresetNames lists the registered preset names, sorted.
func ObjectivePresetNames() []string {
	presetMu.RLock()
	defer presetMu.RUnlock()
	var out []string
	for k := range objectivePresets {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ObjectivePreset returns a copy of the named preset.
func ObjectivePreset(name string) (ObjectiveConfig, error) {
	presetMu.RLock()
	c, ok := objectivePresets[name]
	presetMu.RUnlock()
	if !ok {
		return ObjectiveConfig{}, fmt.Errorf("objective: unknown preset %q (have %v)", name, ObjectivePresetNames())
	}
	c.Metrics = slices.Clone(c.Metrics)
	c.Targets = slices.Clone(c.Targets)
	c.ScaleBy = slices.Clone(c.ScaleBy)
	return c, nil
}

// Objective is an ObjectiveConfig bound to a list of metric names: every
// metric is resolved to its index once. It is immutable and safe for
// concurrent use.
type Objective struct {
	cfg     ObjectiveConfig
	name    string
	idx     []int     // metric indices of cfg.Metrics
	target  []float64 // KindTarget
	scale   []float64 // KindTarget, 1 when not scaling
	cap     float64
	logRef  float64 // sum of log(reference)
	hasRef  bool
	consIdx []int
	penalty float64
	names   []string // the bound metric names (for Seen)
}

// Bind validates c and resolves its metric names against metricNames (a
// design space's MetricNames). Errors name the offending field.
func (c ObjectiveConfig) Bind(metricNames []string) (*Objective, error) {
	lookup := func(field, m string) (int, error) {
		i := slices.Index(metricNames, m)
		if i < 0 {
			return 0, fmt.Errorf("objective %s: unknown metric %q (have %v)", field, m, metricNames)
		}
		return i, nil
	}
	if len(c.Metrics) == 0 {
		return nil, fmt.Errorf("objective metrics: empty")
	}
	o := &Objective{cfg: c, names: slices.Clone(metricNames)}
	o.cfg.Metrics = slices.Clone(c.Metrics)
	for _, m := range c.Metrics {
		i, err := lookup("metrics", m)
		if err != nil {
			return nil, err
		}
		o.idx = append(o.idx, i)
	}
	if c.Kind != KindConstrained && len(c.Constraints) > 0 {
		return nil, fmt.Errorf("objective constraints: only kind %q takes constraints (kind is %q)", KindConstrained, c.Kind)
	}
	switch c.Kind {
	case KindTarget:
		if len(c.Targets) > len(c.Metrics) || len(c.ScaleBy) > len(c.Metrics) {
			return nil, fmt.Errorf("objective targets/scale_by: more entries than metrics (%d)", len(c.Metrics))
		}
		if len(c.Targets) != len(c.Metrics) {
			return nil, fmt.Errorf("objective targets: %d for %d metrics, want one per metric", len(c.Targets), len(c.Metrics))
		}
		for j, t := range c.Targets {
			if !(t > 0) || math.IsInf(t, 0) {
				return nil, fmt.Errorf("objective targets[%d]: %v, want > 0", j, t)
			}
			o.target = append(o.target, t)
			s := 1.0
			if j < len(c.ScaleBy) {
				s = c.ScaleBy[j]
			}
			if !(s > 0) || math.IsInf(s, 0) {
				return nil, fmt.Errorf("objective scale_by[%d]: %v, want > 0", j, s)
			}
			o.scale = append(o.scale, s)
		}
		o.cap = c.Cap
		if !(o.cap > 0) {
			return nil, fmt.Errorf("objective cap: %v, want > 0 (ArchGym's is DefaultTargetCap = %v)", o.cap, DefaultTargetCap)
		}
	case KindMinimize, KindConstrained:
		if len(c.Targets) > 0 || len(c.ScaleBy) > 0 || c.Cap != 0 {
			return nil, fmt.Errorf("objective: targets, scale_by and cap apply to kind %q only", KindTarget)
		}
		if len(c.Reference) > 0 {
			if err := o.setReference(c.Reference); err != nil {
				return nil, fmt.Errorf("objective reference: %w", err)
			}
		}
		if c.Kind == KindConstrained {
			if len(c.Constraints) == 0 {
				return nil, fmt.Errorf("objective constraints: kind %q needs at least one", KindConstrained)
			}
			for j, k := range c.Constraints {
				i, err := lookup(fmt.Sprintf("constraints[%d].metric", j), k.Metric)
				if err != nil {
					return nil, err
				}
				if !(k.Max > 0) || math.IsInf(k.Max, 0) {
					return nil, fmt.Errorf("objective constraints[%d].max: %v, want a positive bound", j, k.Max)
				}
				o.consIdx = append(o.consIdx, i)
			}
			o.penalty = c.Penalty
			if !(o.penalty >= 0) || math.IsInf(o.penalty, 0) {
				return nil, fmt.Errorf("objective penalty: %v, want >= 0", o.penalty)
			}
		} else if c.Penalty != 0 {
			return nil, fmt.Errorf("objective penalty: applies to kind %q only", KindConstrained)
		}
	default:
		return nil, fmt.Errorf("objective kind: %q, want %q, %q or %q", c.Kind, KindTarget, KindMinimize, KindConstrained)
	}
	o.name = c.Name
	if o.name == "" {
		o.name = c.Kind + ":" + strings.Join(c.Metrics, "*")
	}
	return o, nil
}

// setReference takes one reference value per objective metric.
func (o *Objective) setReference(ref []float64) error {
	if len(ref) != len(o.idx) {
		return fmt.Errorf("%d values for %d metrics", len(ref), len(o.idx))
	}
	s := 0.0
	for j, r := range ref {
		if !(r > 0) || math.IsInf(r, 0) {
			return fmt.Errorf("value %d is %v, want > 0", j, r)
		}
		if o.cfg.Seen != nil {
			r = o.cfg.Seen(o.names[o.idx[j]], r)
		}
		s += math.Log(r)
	}
	o.logRef, o.hasRef = s, true
	o.cfg.Reference = slices.Clone(ref)
	return nil
}

// Name returns the objective's name.
func (o *Objective) Name() string { return o.name }

// Config returns the configuration (with the reference, if set).
func (o *Objective) Config() ObjectiveConfig { return o.cfg }

// Kind returns the objective's kind.
func (o *Objective) Kind() string { return o.cfg.Kind }

// HasReference reports whether a minimize/constrained objective has a
// reference design (target objectives need none and report true).
func (o *Objective) HasReference() bool { return o.cfg.Kind == KindTarget || o.hasRef }

// WithReference returns a copy whose reference is taken from a design's
// full metric vector (indexed like the bound metric names). Target
// objectives are returned unchanged.
func (o *Objective) WithReference(metrics []float64) (*Objective, error) {
	if o.cfg.Kind == KindTarget {
		return o, nil
	}
	c := *o
	ref := make([]float64, len(o.idx))
	for j, i := range o.idx {
		ref[j] = metrics[i]
	}
	if err := c.setReference(ref); err != nil {
		return nil, fmt.Errorf("objective %s reference: %w", o.name, err)
	}
	return &c, nil
}

// seen returns metric i as the reward sees it (ObjectiveConfig.Seen).
func (o *Objective) seen(metrics []float64, i int) float64 {
	if o.cfg.Seen != nil {
		return o.cfg.Seen(o.names[i], metrics[i])
	}
	return metrics[i]
}

// Reward scores a design's metric vector (indexed like the bound metric
// names); larger is better.
//
//	target:      min(cap, prod_j (T_j/|x_j - T_j|) / s_j)    (x = T gives cap)
//	minimize:    -log(prod_j x_j / prod_j ref_j)
//	constrained: minimize - penalty * sum_c max(0, (m_c - Max_c)/Max_c)
//
// Metrics of minimize/constrained objectives must be positive; a
// non-positive product is clamped to 1e-300.
func (o *Objective) Reward(metrics []float64) float64 {
	if o.cfg.Kind == KindTarget {
		r := 1.0
		for j, i := range o.idx {
			r *= o.target[j] / math.Abs(o.seen(metrics, i)-o.target[j]) / o.scale[j]
		}
		if r > o.cap || math.IsNaN(r) {
			return o.cap
		}
		return r
	}
	s := 0.0
	for _, i := range o.idx {
		s += math.Log(max(o.seen(metrics, i), 1e-300))
	}
	r := -(s - o.logRef)
	if o.cfg.Kind == KindConstrained {
		r -= o.penalty * o.violation(metrics, true)
	}
	return r
}

// violation is sum_c max(0, (m_c - Max_c)/Max_c).
func (o *Objective) violation(metrics []float64, asSeen bool) float64 {
	v := 0.0
	for j, i := range o.consIdx {
		m := metrics[i]
		if asSeen {
			m = o.seen(metrics, i)
		}
		b := o.cfg.Constraints[j].Max
		v += max(0, (m-b)/b)
	}
	return v
}

// Violation returns the relative constraint violation sum_c max(0,
// (m_c - Max_c)/Max_c) in true physical units (0 when feasible or
// unconstrained).
func (o *Objective) Violation(metrics []float64) float64 { return o.violation(metrics, false) }

// Feasible reports whether every constraint holds (in true units).
func (o *Objective) Feasible(metrics []float64) bool { return o.Violation(metrics) == 0 }

// Value returns the objective's figure of merit in true physical units
// (Unit), lower is better: the minimised product for minimize/constrained
// (e.g. EDP in pJ*ns), and for target objectives the dimensionless product
// of relative distances prod_j |x_j - T_j|/T_j. ObjectiveConfig.Seen never
// affects Value.
func (o *Objective) Value(metrics []float64) float64 {
	v := 1.0
	for j, i := range o.idx {
		if o.cfg.Kind == KindTarget {
			v *= math.Abs(metrics[i]-o.target[j]) / o.target[j]
		} else {
			v *= metrics[i]
		}
	}
	return v
}

// Unit returns the unit of Value: the metrics' unit suffixes joined by "*"
// (time_ns -> "ns", energy_pJ*time_ns -> "pJ*ns"), or "1" for targets.
func (o *Objective) Unit() string {
	if o.cfg.Kind == KindTarget {
		return "1"
	}
	var u []string
	for _, m := range o.cfg.Metrics {
		if k := strings.LastIndexByte(m, '_'); k >= 0 {
			u = append(u, m[k+1:])
		} else {
			u = append(u, "1")
		}
	}
	return strings.Join(u, "*")
}
