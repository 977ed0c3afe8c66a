package envs

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var dramMetrics = []string{MetricTime, MetricEnergy, MetricPower}

// m builds a DRAM metric vector.
func m(timeNs, energyPJ, powerMW float64) []float64 { return []float64{timeNs, energyPJ, powerMW} }

func bind(t *testing.T, c ObjectiveConfig) *Objective {
	t.Helper()
	o, err := c.Bind(dramMetrics)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func preset(t *testing.T, name string) ObjectiveConfig {
	t.Helper()
	c, err := ObjectivePreset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestTargetObjectives(t *testing.T) {
	pw, lat, both := bind(t, preset(t, "archgym_power")), bind(t, preset(t, "archgym_latency")), bind(t, preset(t, "archgym_both"))
	x := m(120000, 5e8, 1250)
	// power: 1000/|1250-1000| = 4; latency: 100000/|120000-100000| = 5.
	for _, c := range []struct {
		o    *Objective
		want float64
	}{{pw, 4}, {lat, 5}, {both, 20}} {
		if got := c.o.Reward(x); !near(got, c.want) {
			t.Errorf("%s reward %v, want %v", c.o.Name(), got, c.want)
		}
	}
	// Value: relative distance, dimensionless.
	if v := both.Value(x); !near(v, 0.25*0.2) || both.Unit() != "1" {
		t.Errorf("both value %v unit %q", v, both.Unit())
	}
	// The cap: 1000/|1000.5-1000| = 2000 -> 1000; exactly on target -> cap.
	if r := pw.Reward(m(1, 1, 1000.5)); r != 1000 {
		t.Errorf("reward near target %v, want cap 1000", r)
	}
	if r := pw.Reward(m(1, 1, 1000)); r != 1000 {
		t.Errorf("reward on target %v, want cap 1000", r)
	}
	// Scaling (ArchGym's divisors): 4/350, 5/20, product 4/350*5/20.
	sc := preset(t, "archgym_both")
	sc.Scaling = true
	if r := bind(t, sc).Reward(x); !near(r, 4.0/350*5.0/20) {
		t.Errorf("scaled both %v", r)
	}
	// Custom target, scale and cap.
	c := ObjectiveConfig{Kind: KindTarget, Metrics: []string{MetricEnergy}, Targets: []float64{1e8}, Scaling: true, ScaleBy: []float64{2}, Cap: 3}
	if r := bind(t, c).Reward(m(1, 1.5e8, 1)); !near(r, 1) { // 1e8/5e7/2
		t.Errorf("custom target %v, want 1", r)
	}
	if r := bind(t, c).Reward(m(1, 1.1e8, 1)); r != 3 { // 10/2 = 5 -> cap 3
		t.Errorf("custom cap %v, want 3", r)
	}
}

func TestMinimizeObjectives(t *testing.T) {
	lat := bind(t, preset(t, "latency"))
	if lat.HasReference() {
		t.Error("latency preset has a reference before WithReference")
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
	edp, _ := bind(t, preset(t, "edp")).WithReference(ref)
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
		Constraints: []Constraint{{Metric: MetricTime, Max: 100000}}, Reference: []float64{1000}}
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
}

func TestObjectiveBindErrors(t *testing.T) {
	bad := map[string]ObjectiveConfig{
		"no metrics":          {Kind: KindMinimize},
		"unknown metric":      {Kind: KindMinimize, Metrics: []string{"latency_ms"}},
		"unknown kind":        {Kind: "maximise", Metrics: []string{MetricTime}},
		"no default target":   {Kind: KindTarget, Metrics: []string{MetricEnergy}},
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
	for _, n := range ObjectivePresetNames() {
		if _, err := preset(t, n).Bind(dramMetrics); err != nil {
			t.Errorf("preset %s: %v", n, err)
		}
	}
	if _, err := ObjectivePreset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestSystemCTimeString(t *testing.T) {
	for ns, want := range map[float64]string{
		51595:     "51595 ns", // oat_sweep.csv, stream, ArchGym default config
		50468.75:  "50468750 ps",
		168947.5:  "168947500 ps",
		472350:    "472350 ns",
		100000:    "100 us", // whole microseconds: SystemC switches unit again
		0.25:      "250 ps",
		1.25:      "1250 ps",
		0:         "0 s",
		123000000: "123 ms",
	} {
		if got := SystemCTimeString(ns); got != want {
			t.Errorf("SystemCTimeString(%v) = %q, want %q", ns, got, want)
		}
		// ArchGymTimeNs reads the printed number, ignoring the unit.
		num, _ := strconv.ParseFloat(strings.Fields(want)[0], 64)
		if got := ArchGymTimeNs(ns); got != num {
			t.Errorf("ArchGymTimeNs(%v) = %v, want %v", ns, got, num)
		}
	}
}

// TestArchGymLatencyCompat: a makespan whose picosecond count is not a
// multiple of 1000 (100000.25 ns = 100000250 ps, printed in ps) is read by
// ArchGym as 100000250 "ns".
func TestArchGymLatencyCompat(t *testing.T) {
	c := preset(t, "archgym_latency")
	plain := bind(t, c)
	c.ArchGymLatencyCompat = true
	compat := bind(t, c)
	x := m(100000.25, 1, 1)
	if r := plain.Reward(x); r != 1000 { // 1e5/0.25 = 4e5 -> cap
		t.Errorf("plain reward %v, want cap 1000", r)
	}
	if r, want := compat.Reward(x), 1e5/(100000250-1e5); !near(r, want) {
		t.Errorf("compat reward %v, want %v", r, want)
	}
	// Whole nanoseconds (not whole microseconds) print in ns: compat
	// changes nothing. Whole microseconds print in us and read 1000x small.
	if y := m(120005, 1, 1); compat.Reward(y) != plain.Reward(y) {
		t.Error("compat changed a whole-ns time")
	}
	if r, want := compat.Reward(m(120000, 1, 1)), 1e5/(1e5-120); !near(r, want) {
		t.Errorf("compat reward for 120 us %v, want %v", r, want)
	}
	// The spec's example: 168947.5 ns.
	if r, want := compat.Reward(m(168947.5, 1, 1)), 1e5/(168947500-1e5); !near(r, want) {
		t.Errorf("compat reward %v, want %v", r, want)
	}
	// Value stays physical.
	if v := compat.Value(x); !near(v, 0.25/1e5) {
		t.Errorf("compat value %v, want true relative distance", v)
	}
	// Minimisation objectives see the quirk too when asked.
	l := preset(t, "latency")
	l.ArchGymLatencyCompat = true
	l.Reference = []float64{100005}
	if r := bind(t, l).Reward(m(50000.5, 1, 1)); !near(r, -math.Log(50000500.0/100005)) {
		t.Errorf("compat latency reward %v", r)
	}
}

// TestSystemCTimeStringReferenceData checks the formatter against every
// time_str the reference printed, when the shared data is present.
func TestSystemCTimeStringReferenceData(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/data/dramsys/*.csv")
	if len(files) == 0 {
		t.Skip("reference CSVs not available")
	}
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		ti, si := -1, -1
		for i, h := range rows[0] {
			switch h {
			case "time_ns":
				ti = i
			case "time_str":
				si = i
			}
		}
		if ti < 0 || si < 0 {
			continue
		}
		for _, r := range rows[1:] {
			ns, err := strconv.ParseFloat(r[ti], 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := SystemCTimeString(ns); got != r[si] {
				t.Errorf("%s: %v ns formats as %q, reference printed %q", filepath.Base(f), ns, got, r[si])
			}
			n++
		}
	}
	t.Logf("%d reference times checked", n)
}
