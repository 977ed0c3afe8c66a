package multichan

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/envtest"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

func TestSpaceContract(t *testing.T) {
	s, err := New([]string{"stream", "random"})
	if err != nil {
		t.Fatal(err)
	}
	envtest.DesignSpaceWith(t, s, envtest.DesignSpaceOptions{Samples: 3, Goroutines: 2})
}

// TestSpaceComposesChannels: the system's metrics are the slowest
// channel's makespan, the channels' summed energy and their ratio, each
// channel simulated exactly as the DRAM space of its trace.
func TestSpaceComposesChannels(t *testing.T) {
	traces := []string{"stream", "random", "cloud-1"}
	s, err := New(traces)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "multichan/stream+random+cloud-1" || len(s.Knobs()) != 30 || s.Knobs()[10].Name != "c1.PagePolicy" {
		t.Fatalf("name %s, %d knobs, knob 10 %s", s.Name(), len(s.Knobs()), s.Knobs()[10].Name)
	}
	cfg := make([]int, 30)
	cfg[dram.KnobRequestBufferSize] = 3
	cfg[10+dram.KnobPagePolicy] = 2
	cfg[20+dram.KnobScheduler] = 1
	got := make([]float64, 3)
	if err := s.Evaluate(cfg, got); err != nil {
		t.Fatal(err)
	}
	tmax, esum := 0.0, 0.0
	for c, tr := range traces {
		ch, err := dram.NewTraceSpace(tr)
		if err != nil {
			t.Fatal(err)
		}
		m := make([]float64, 3)
		if err := ch.Evaluate(cfg[c*10:(c+1)*10], m); err != nil {
			t.Fatal(err)
		}
		tmax, esum = max(tmax, m[0]), esum+m[1]
	}
	if got[0] != tmax || got[1] != esum || got[2] != esum/tmax {
		t.Fatalf("system %v, want time %v energy %v power %v", got, tmax, esum, esum/tmax)
	}
	// Evaluated again (from the channel tables): the same numbers.
	again := make([]float64, 3)
	if err := s.Evaluate(cfg, again); err != nil || !slices.Equal(again, got) {
		t.Fatalf("repeat %v (%v), want %v", again, err, got)
	}
	if _, err := New(nil); err == nil {
		t.Error("no traces: no error")
	}
	if _, err := New(make([]string, MaxChannels+1)); err == nil {
		t.Error("9 channels: no error")
	}
	if err := s.Evaluate(cfg[:29], got); err == nil {
		t.Error("short configuration: no error")
	}
}

// TestSolveOnRestrictedSpace proves Solve against brute force on the real
// simulator: three channels, each with PagePolicy (4 values) and Arbiter
// (3) free and every other knob fixed, so 12 designs per channel and 1,728
// systems. The channel points come from simulating each channel's 12
// designs; the brute force evaluates every system through Space.Evaluate
// (envs.FindOptimum) and the objective bound to the system's metrics.
func TestSolveOnRestrictedSpace(t *testing.T) {
	traces := []string{"stream", "random", "cloud-1"}
	s, err := New(traces)
	if err != nil {
		t.Fatal(err)
	}
	fixed := map[string]string{}
	free := []int{dram.KnobPagePolicy, dram.KnobArbiter}
	for c := range traces {
		for k, kn := range dram.Knobs() {
			if !slices.Contains(free, k) {
				fixed[KnobName(c, kn.Name)] = kn.Values[min(1, len(kn.Values)-1)]
			}
		}
	}
	sub, err := exhaustive.Restrict(s, fixed)
	if err != nil {
		t.Fatal(err)
	}
	// Each channel's points: its 12 designs, simulated.
	chans := make([][]Point, len(traces))
	for c := range traces {
		var pts []Point
		cfg := make([]int, dram.NumKnobs)
		for k := range cfg {
			cfg[k] = min(1, len(dram.Knobs()[k].Values)-1)
		}
		for pp := range 4 {
			for arb := range 3 {
				cfg[dram.KnobPagePolicy], cfg[dram.KnobArbiter] = pp, arb
				m := make([]float64, 3)
				if err := s.ChannelMetrics(c, cfg, m); err != nil {
					t.Fatal(err)
				}
				pts = append(pts, Point{Index: channelIndex(cfg), TimeNS: m[0], EnergyPJ: m[1]})
			}
		}
		chans[c] = distinct(pts)
	}
	// Targets inside the reachable ranges, so that the target forms are
	// needles rather than the extremes.
	lat, _ := Solve(chans, "latency", 0, 0)
	pw, _ := Solve(chans, "power", 0, 0)
	ec := DefaultEnvConfig()
	ec.Traces = traces
	ec.TargetTimeNS = lat.TimeNS * 1.07
	ec.TargetPowerMW = pw.PowerMW * 1.05
	for _, name := range Objectives() {
		ec.Objective = name
		oc, err := ec.ObjectiveConfig()
		if err != nil {
			t.Fatal(err)
		}
		obj, err := oc.Bind(s.MetricNames())
		if err != nil {
			t.Fatal(err)
		}
		sol, err := Solve(chans, name, ec.TargetTimeNS, ec.TargetPowerMW)
		if err != nil {
			t.Fatal(err)
		}
		got := sol.Optimum(obj)
		brute, err := envs.FindOptimum(sub, obj)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Value-brute.Value) > 1e-12*math.Abs(brute.Value) {
			t.Errorf("%s: Solve %v, brute force %v", name, got.Value, brute.Value)
		}
		// The solution's design, evaluated on the space, has the claimed metrics.
		cfg := make([]int, len(s.Knobs()))
		for k, kn := range s.Knobs() {
			cfg[k] = slices.Index(kn.Values, got.Knobs[kn.Name])
		}
		m := make([]float64, 3)
		if err := s.Evaluate(cfg, m); err != nil {
			t.Fatal(err)
		}
		if v := obj.Value(m); v != got.Value {
			t.Errorf("%s: the solution's design evaluates to %v, Solve says %v", name, v, got.Value)
		}
	}
}

// TestShippedTruth: configs/truth/channels4.json is Truth(4).
func TestShippedTruth(t *testing.T) {
	data, err := os.ReadFile("../../configs/truth/channels4.json")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]int
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := Truth(4)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("row %d: %v, want %v", i, got[i], want[i])
		}
	}
	if want[3][7] != 1 || want[3][13] != 0 || want[5][5] != 0 {
		t.Fatal("Truth: within-channel pairs only, no self-loops")
	}
}

// TestFreeGroupsAreChannels: free_within = "channel" gives one group per
// channel, holding exactly the knobs of that channel in the space's order;
// "any" gives none; another value is refused, naming the key.
func TestFreeGroupsAreChannels(t *testing.T) {
	traces := []string{"stream", "random", "cloud-1"}
	s, err := New(traces)
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultEnvConfig()
	if g := c.FreeGroups(s.Channels()); g != nil {
		t.Fatalf("free_within any: groups %v", g)
	}
	c.FreeWithin = "channel"
	g := c.FreeGroups(s.Channels())
	if len(g) != len(traces) {
		t.Fatalf("%d groups for %d channels", len(g), len(traces))
	}
	covered := 0
	for ch, grp := range g {
		if len(grp) != dram.NumKnobs {
			t.Fatalf("channel %d: %d knobs", ch, len(grp))
		}
		for _, k := range grp {
			if name, prefix := s.Knobs()[k].Name, fmt.Sprintf("c%d.", ch); !strings.HasPrefix(name, prefix) {
				t.Fatalf("channel %d's group holds knob %d (%s)", ch, k, name)
			}
			covered++
		}
	}
	if covered != len(s.Knobs()) {
		t.Fatalf("groups cover %d of %d knobs", covered, len(s.Knobs()))
	}
	c.FreeWithin = "block"
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "free_within ") {
		t.Fatalf("free_within block: %v", err)
	}
	c.FreeWithin = "any"
	// Each number key: out-of-range values are refused by key, then a good one is kept.
	for _, k := range []struct {
		key  string
		set  func(float64)
		bad  []float64
		good float64
	}{
		{"free_law", func(v float64) { c.FreeLaw = v }, []float64{-0.5, 11, math.NaN()}, 1.5},
		{"cross_rate", func(v float64) { c.CrossRate = v }, []float64{-0.5, 1.01, math.NaN()}, 0.5},
	} {
		for _, v := range k.bad {
			k.set(v)
			if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), k.key+" ") {
				t.Fatalf("%s %v: %v", k.key, v, err)
			}
		}
		k.set(k.good)
		if err := c.Validate(); err != nil {
			t.Fatalf("%s %v: %v", k.key, k.good, err)
		}
	}
}
