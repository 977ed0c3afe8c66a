package dram

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
)

// mv builds a DRAM metric vector.
func mv(timeNs, energyPJ, powerMW float64) []float64 { return []float64{timeNs, energyPJ, powerMW} }

func bindPreset(t *testing.T, c envs.ObjectiveConfig) *envs.Objective {
	t.Helper()
	o, err := c.Bind(spaceMetrics)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func preset(t *testing.T, name string) envs.ObjectiveConfig {
	t.Helper()
	c, err := envs.ObjectivePreset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestArchGymPresets: ArchGym's target form with its default targets, its
// cap, and its RL environment's scaling when asked.
func TestArchGymPresets(t *testing.T) {
	pw, lat, both := bindPreset(t, preset(t, "archgym_power")), bindPreset(t, preset(t, "archgym_latency")), bindPreset(t, preset(t, "archgym_both"))
	x := mv(120000, 5e8, 1250)
	// power: 1000/|1250-1000| = 4; latency: 100000/|120000-100000| = 5.
	for _, c := range []struct {
		o    *envs.Objective
		want float64
	}{{pw, 4}, {lat, 5}, {both, 20}} {
		if got := c.o.Reward(x); !near(got, c.want) {
			t.Errorf("%s reward %v, want %v", c.o.Name(), got, c.want)
		}
	}
	if r := pw.Reward(mv(1, 1, 1000)); r != 1000 {
		t.Errorf("reward on target %v, want cap 1000", r)
	}
	// Scaling (ArchGym's divisors): 4/350, 5/20, product 4/350*5/20.
	sc := preset(t, "archgym_both")
	sc.ScaleBy = ArchGymScaleBy(sc.Metrics)
	if r := bindPreset(t, sc).Reward(x); !near(r, 4.0/350*5.0/20) {
		t.Errorf("scaled both %v", r)
	}
	// Every preset binds to the space's metrics (with the request metrics,
	// which the read-latency objectives turn on); every EnvConfig objective
	// builds.
	allMetrics := append(slices.Clone(spaceMetrics), requestMetrics...)
	for _, n := range envs.ObjectivePresetNames() {
		if _, err := preset(t, n).Bind(allMetrics); err != nil {
			t.Errorf("preset %s: %v", n, err)
		}
	}
	for _, n := range ObjectiveNames() {
		c := DefaultEnvConfig()
		c.Objective = n
		if n == "constrained_power" {
			c.TimeLimitNS = 1e5
		}
		oc, err := c.ObjectiveConfig()
		if err == nil {
			_, err = oc.Bind(allMetrics)
		}
		if err != nil || c.Validate() != nil {
			t.Errorf("objective %s: %v %v", n, err, c.Validate())
		}
	}
}

// TestEnvConfigValidate names every bad key.
func TestEnvConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		set  func(c *EnvConfig)
		want string
	}{
		{func(c *EnvConfig) { c.Objective = "speed" }, "objective"},
		{func(c *EnvConfig) { c.TargetPowerMW = 0 }, "target_power_mw"},
		{func(c *EnvConfig) { c.Objective = "constrained_power" }, "time_limit_ns"},
		{func(c *EnvConfig) { c.TimeLimitNS = 5 }, "time_limit_ns"},
		{func(c *EnvConfig) { c.EpisodeLen = 0 }, "episode_len"},
		{func(c *EnvConfig) { c.Trace = "" }, "trace"},
	} {
		c := DefaultEnvConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want+" ") {
			t.Errorf("%+v: error %v, want one starting with %s", c, err, tc.want)
		}
	}
	if err := DefaultEnvConfig().Validate(); err != nil {
		t.Fatal(err)
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
	ec := DefaultEnvConfig()
	ec.Objective, ec.ArchGymCompat = "archgym_latency", true
	if oc, err := ec.ObjectiveConfig(); err != nil || oc.Seen == nil || ec.ShippedOptimum() {
		t.Fatalf("compat objective %+v %v, shipped optimum %v", oc, err, ec.ShippedOptimum())
	}
	c := preset(t, "archgym_latency")
	plain := bindPreset(t, c)
	c.Seen = ArchGymLatencySeen
	compat := bindPreset(t, c)
	x := mv(100000.25, 1, 1)
	if r := plain.Reward(x); r != 1000 { // 1e5/0.25 = 4e5 -> cap
		t.Errorf("plain reward %v, want cap 1000", r)
	}
	if r, want := compat.Reward(x), 1e5/(100000250-1e5); !near(r, want) {
		t.Errorf("compat reward %v, want %v", r, want)
	}
	// Whole nanoseconds (not whole microseconds) print in ns: compat
	// changes nothing. Whole microseconds print in us and read 1000x small.
	if y := mv(120005, 1, 1); compat.Reward(y) != plain.Reward(y) {
		t.Error("compat changed a whole-ns time")
	}
	if r, want := compat.Reward(mv(120000, 1, 1)), 1e5/(1e5-120); !near(r, want) {
		t.Errorf("compat reward for 120 us %v, want %v", r, want)
	}
	// The spec's example: 168947.5 ns.
	if r, want := compat.Reward(mv(168947.5, 1, 1)), 1e5/(168947500-1e5); !near(r, want) {
		t.Errorf("compat reward %v, want %v", r, want)
	}
	// Value stays physical.
	if v := compat.Value(x); !near(v, 0.25/1e5) {
		t.Errorf("compat value %v, want true relative distance", v)
	}
	// Minimisation objectives see the quirk too when asked.
	l := preset(t, "latency")
	l.Seen = ArchGymLatencySeen
	l.Reference = []float64{100005}
	if r := bindPreset(t, l).Reward(mv(50000.5, 1, 1)); !near(r, -math.Log(50000500.0/100005)) {
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

// TestEnvConfigSpaceDevices: the memspec and mapping keys select the
// device of the space and name it in the space's name, and an LPDDR4
// device (time only) refuses objectives on energy or power.
func TestEnvConfigSpaceDevices(t *testing.T) {
	c := DefaultEnvConfig()
	c.MemSpec = "JEDEC_4Gb_DDR4-2400_8bit_A"
	s, err := c.Space()
	if err != nil || s.MemSpec().Standard != DDR4 || s.Name() != "dram/stream@MICRON_4Gb_DDR4-2400_8bit_A" || !c.ShippedOptimum() {
		t.Fatalf("got %v, %v (shipped optimum %v)", s, err, c.ShippedOptimum())
	}
	c.MemSpec, c.Objective = "JEDEC_8Gb_LPDDR4-3200_16bit", "edp"
	if _, err := c.Space(); err == nil || !strings.HasPrefix(err.Error(), "objective: ") {
		t.Errorf("LPDDR4 with edp: got %v", err)
	}
	c.Objective = "latency"
	if s, err := c.Space(); err != nil || s.Name() != "dram/stream@JEDEC_8Gb_LPDDR4-3200_16bit" {
		t.Errorf("LPDDR4 with latency: got %v, %v", s, err)
	}
	c.Mapping = "am_ddr4_8x4Gbx8_dimm_p1KB_brc"
	if _, err := c.Space(); err == nil || !strings.HasPrefix(err.Error(), "mapping: ") {
		t.Errorf("LPDDR4 with the DDR4 mapping: got %v", err)
	}
	c = DefaultEnvConfig()
	if s, err := c.Space(); err != nil || s.Name() != "dram/stream" || !c.ShippedOptimum() {
		t.Errorf("default: got %v, %v", s, err)
	}
}
