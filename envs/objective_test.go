package envs

import (
	"math"
	"testing"
)

// Metric names of a three-metric space like the DRAM one (the objective code
// knows no metric by name).
const (
	MetricTime   = "time_ns"
	MetricEnergy = "energy_pJ"
	MetricPower  = "power_mW"
)

var dramMetrics = []string{MetricTime, MetricEnergy, MetricPower}

// m builds a metric vector.
func m(timeNs, energyPJ, powerMW float64) []float64 { return []float64{timeNs, energyPJ, powerMW} }

func bind(t *testing.T, c ObjectiveConfig) *Objective {
	t.Helper()
	o, err := c.Bind(dramMetrics)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func minimize(metrics ...string) ObjectiveConfig {
	return ObjectiveConfig{Kind: KindMinimize, Metrics: metrics}
}

// TestTargetObjectives: per metric T/|x-T|, divided by its scale,
// multiplied, capped.
func TestTargetObjectives(t *testing.T) {
	pw := bind(t, ObjectiveConfig{Kind: KindTarget, Metrics: []string{MetricPower}, Targets: []float64{1000}, Cap: DefaultTargetCap})
	both := bind(t, ObjectiveConfig{Kind: KindTarget, Metrics: []string{MetricPower, MetricTime}, Targets: []float64{1000, 100000}, Cap: DefaultTargetCap})
	x := m(120000, 5e8, 1250)
	// power: 1000/|1250-1000| = 4; time: 100000/|120000-100000| = 5.
	if r := pw.Reward(x); !near(r, 4) {
		t.Errorf("power reward %v, want 4", r)
	}
	if r := both.Reward(x); !near(r, 20) {
		t.Errorf("both reward %v, want 20", r)
	}
	// Value: relative distance, dimensionless.
	if v := both.Value(x); !near(v, 0.25*0.2) || both.Unit() != "1" {
		t.Errorf("both value %v unit %q", v, both.Unit())
	}
	// The default cap: 1000/|1000.5-1000| = 2000 -> 1000; on target -> cap.
	if r := pw.Reward(m(1, 1, 1000.5)); r != DefaultTargetCap {
		t.Errorf("reward near target %v, want the cap", r)
	}
	if r := pw.Reward(m(1, 1, 1000)); r != DefaultTargetCap {
		t.Errorf("reward on target %v, want the cap", r)
	}
	// Custom target, scale and cap.
	c := ObjectiveConfig{Kind: KindTarget, Metrics: []string{MetricEnergy}, Targets: []float64{1e8}, ScaleBy: []float64{2}, Cap: 3}
	if r := bind(t, c).Reward(m(1, 1.5e8, 1)); !near(r, 1) { // 1e8/5e7/2
		t.Errorf("custom target %v, want 1", r)
	}
	if r := bind(t, c).Reward(m(1, 1.1e8, 1)); r != 3 { // 10/2 = 5 -> cap 3
		t.Errorf("custom cap %v, want 3", r)
	}
}

// TestSeen: the reward (and the reference) see the mapped value, the
// reported value the true one.
func TestSeen(t *testing.T) {
	double := func(metric string, x float64) float64 {
		if metric == MetricTime {
			return 2 * x
		}
		return x
	}
	c := minimize(MetricTime)
	c.Seen = double
	c.Reference = []float64{100}
	o := bind(t, c)
	// The reference is seen too (100 -> 200), like the design (50 -> 100).
	if r := o.Reward(m(50, 1, 1)); !near(r, math.Log(2)) {
		t.Errorf("reward %v, want log 2", r)
	}
	if v := o.Value(m(50, 1, 1)); v != 50 {
		t.Errorf("value %v, want the true 50", v)
	}
	tg := ObjectiveConfig{Kind: KindTarget, Metrics: []string{MetricTime}, Targets: []float64{300}, Cap: DefaultTargetCap, Seen: double}
	if r := bind(t, tg).Reward(m(100, 1, 1)); !near(r, 3) { // 300/|200-300|
		t.Errorf("target reward %v, want 3", r)
	}
}

func TestMinimizeObjectives(t *testing.T) {
	lat := bind(t, minimize(MetricTime))
	if lat.HasReference() {
		t.Error("a minimisation objective has a reference before WithReference")
	}
	// No reference: -log(x).
	if r := lat.Reward(m(math.E, 1, 1)); !near(r, -1) {
		t.Errorf("latency reward without reference %v, want -1", r)
	}
	ref := m(100000, 1e8, 1000)
	lat, err := lat.WithReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if r := lat.Reward(m(50000, 0, 0)); !near(r, math.Log(2)) {
		t.Errorf("latency halved: reward %v, want log 2", r)
	}
	if lat.Value(m(50000, 0, 0)) != 50000 || lat.Unit() != "ns" {
		t.Errorf("latency value/unit %v %q", lat.Value(m(50000, 0, 0)), lat.Unit())
	}
	edp, _ := bind(t, minimize(MetricEnergy, MetricTime)).WithReference(ref)
	// Energy doubled, time halved: same EDP -> reward 0.
	if r := edp.Reward(m(50000, 2e8, 5)); !near(r, 0) {
		t.Errorf("edp reward %v, want 0", r)
	}
	if v := edp.Value(m(50000, 2e8, 5)); v != 1e13 || edp.Unit() != "pJ*ns" {
		t.Errorf("edp value %v unit %q", v, edp.Unit())
	}
	// Reference given in the config.
	p := ObjectiveConfig{Kind: KindMinimize, Metrics: []string{MetricPower}, Reference: []float64{2000}}
	if r := bind(t, p).Reward(m(1, 1, 500)); !near(r, math.Log(4)) {
		t.Errorf("power reward %v, want log 4", r)
	}
}

func TestConstrainedObjective(t *testing.T) {
	c := ObjectiveConfig{Kind: KindConstrained, Metrics: []string{MetricPower},
		Constraints: []Constraint{{Metric: MetricTime, Max: 100000}}, Reference: []float64{1000}, Penalty: DefaultPenalty}
	o := bind(t, c)
	feasible := m(90000, 1, 800)
	if !o.Feasible(feasible) || o.Violation(feasible) != 0 {
		t.Error("feasible design reported infeasible")
	}
	if r := o.Reward(feasible); !near(r, -math.Log(0.8)) {
		t.Errorf("feasible reward %v, want %v", r, -math.Log(0.8))
	}
	// 20% over the time bound: penalty 10 * 0.2 = 2.
	bad := m(120000, 1, 800)
	if o.Feasible(bad) || !near(o.Violation(bad), 0.2) {
		t.Errorf("violation %v, want 0.2", o.Violation(bad))
	}
	if r := o.Reward(bad); !near(r, -math.Log(0.8)-2) {
		t.Errorf("infeasible reward %v, want %v", r, -math.Log(0.8)-2)
	}
	if o.Value(bad) != 800 || o.Unit() != "mW" {
		t.Errorf("value %v unit %q", o.Value(bad), o.Unit())
	}
	// Custom penalty weight and two constraints.
	c.Penalty = 3
	c.Constraints = append(c.Constraints, Constraint{Metric: MetricEnergy, Max: 1e8})
	o = bind(t, c)
	if r := o.Reward(m(150000, 1.5e8, 1000)); !near(r, -3*(0.5+0.5)) {
		t.Errorf("two violations: reward %v, want -3", r)
	}
	// Penalty 0 is a penalty of 0 (not "the default"): the violation is
	// reported but costs no reward.
	c.Penalty = 0
	o = bind(t, c)
	if r := o.Reward(m(150000, 1.5e8, 1000)); r != 0 || o.Feasible(m(150000, 1.5e8, 1000)) {
		t.Errorf("penalty 0: reward %v, want 0 and infeasible", r)
	}
}

func TestObjectiveBindErrors(t *testing.T) {
	bad := map[string]ObjectiveConfig{
		"no metrics":          {Kind: KindMinimize},
		"unknown metric":      {Kind: KindMinimize, Metrics: []string{"latency_ms"}},
		"unknown kind":        {Kind: "maximise", Metrics: []string{MetricTime}},
		"no target":           {Kind: KindTarget, Metrics: []string{MetricEnergy}},
		"zero scale":          {Kind: KindTarget, Metrics: []string{MetricTime}, Targets: []float64{1}, ScaleBy: []float64{0}, Cap: 1},
		"no cap":              {Kind: KindTarget, Metrics: []string{MetricTime}, Targets: []float64{1}},
		"negative penalty":    {Kind: KindConstrained, Metrics: []string{MetricTime}, Constraints: []Constraint{{MetricPower, 1}}, Penalty: -1},
		"negative target":     {Kind: KindTarget, Metrics: []string{MetricTime}, Targets: []float64{-1}},
		"constraint on min":   {Kind: KindMinimize, Metrics: []string{MetricTime}, Constraints: []Constraint{{MetricPower, 1}}},
		"no constraints":      {Kind: KindConstrained, Metrics: []string{MetricTime}},
		"bad constraint":      {Kind: KindConstrained, Metrics: []string{MetricTime}, Constraints: []Constraint{{"x", 1}}},
		"zero bound":          {Kind: KindConstrained, Metrics: []string{MetricTime}, Constraints: []Constraint{{MetricPower, 0}}},
		"reference length":    {Kind: KindMinimize, Metrics: []string{MetricTime}, Reference: []float64{1, 2}},
		"cap on minimize":     {Kind: KindMinimize, Metrics: []string{MetricTime}, Cap: 5},
		"penalty on minimize": {Kind: KindMinimize, Metrics: []string{MetricTime}, Penalty: 5},
	}
	for name, c := range bad {
		if _, err := c.Bind(dramMetrics); err == nil {
			t.Errorf("%s: Bind accepted %+v", name, c)
		}
	}
	if _, err := ObjectivePreset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
	RegisterObjectivePreset("test_min_time", minimize(MetricTime))
	if c, err := ObjectivePreset("test_min_time"); err != nil || c.Metrics[0] != MetricTime {
		t.Errorf("registered preset: %+v %v", c, err)
	}
}
