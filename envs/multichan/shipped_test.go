package multichan

import (
	"math"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/dram/optimum"
)

func shippedChannels(t *testing.T) [][]Point {
	t.Helper()
	var chans [][]Point
	for _, tr := range DefaultTraces() {
		s, err := LoadSummary(tr)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, s.Points)
	}
	return chans
}

// TestShippedSummaries: every shipped summary agrees with the DRAM space's
// own shipped optima (its least makespan and energy) and with the
// simulator on a sample of its points.
func TestShippedSummaries(t *testing.T) {
	if got := SummaryTraces(); len(got) != 4 {
		t.Fatalf("shipped summaries %v, want the four DSE traces", got)
	}
	for _, tr := range DefaultTraces() {
		s, err := LoadSummary(tr)
		if err != nil {
			t.Fatal(err)
		}
		if s.Trace != tr || s.Configs != 442368 {
			t.Fatalf("%s: trace %q, %d configurations", tr, s.Trace, s.Configs)
		}
		f, err := optimum.Load(tr)
		if err != nil {
			t.Fatal(err)
		}
		lat, _ := f.Entry("latency")
		en, _ := f.Entry("energy")
		minT, minE := math.Inf(1), math.Inf(1)
		for _, p := range s.Points {
			minT, minE = min(minT, p.TimeNS), min(minE, p.EnergyPJ)
		}
		if minT != lat.Value || minE != en.Value {
			t.Errorf("%s: least makespan %v and energy %v, the DRAM optimum files say %v and %v", tr, minT, minE, lat.Value, en.Value)
		}
		space, err := dram.NewTraceSpace(tr)
		if err != nil {
			t.Fatal(err)
		}
		m := make([]float64, 3)
		for _, i := range []int{0, len(s.Points) / 3, len(s.Points) - 1} {
			p := s.Points[i]
			if err := space.Evaluate(ChannelConfig(p.Index), m); err != nil {
				t.Fatal(err)
			}
			if m[0] != p.TimeNS || m[1] != p.EnergyPJ {
				t.Errorf("%s point %d (configuration %d): simulated (%v, %v), shipped (%v, %v)", tr, i, p.Index, m[0], m[1], p.TimeNS, p.EnergyPJ)
			}
		}
	}
}

// TestDefaultSystemOptima pins the exact optima of the default four-channel
// system (the values docs/environments.md reports) and checks their
// internal consistency.
func TestDefaultSystemOptima(t *testing.T) {
	chans := shippedChannels(t)
	d := DefaultEnvConfig()
	sol := map[string]*Solution{}
	for _, o := range Objectives() {
		s, err := Solve(chans, o, d.TargetTimeNS, d.TargetPowerMW)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Exact {
			t.Errorf("%s: not exact", o)
		}
		sol[o] = s
	}
	// Latency decomposes: the slowest channel's least makespan (random's).
	if sol["latency"].TimeNS != 75077.5 {
		t.Errorf("latency optimum %v ns, want 75077.5 (the random trace's least makespan)", sol["latency"].TimeNS)
	}
	// Energy decomposes: the sum of the channels' least energies.
	sum := 0.0
	for _, tr := range DefaultTraces() {
		f, _ := optimum.Load(tr)
		e, _ := f.Entry("energy")
		sum += e.Value
	}
	if sol["energy"].EnergyPJ != sum {
		t.Errorf("energy optimum %v pJ, want the sum of the channels' %v", sol["energy"].EnergyPJ, sum)
	}
	// The EDP optimum is no worse than the latency or energy optimum's EDP.
	edp := func(s *Solution) float64 { return s.TimeNS * s.EnergyPJ }
	if edp(sol["edp"]) > edp(sol["latency"]) || edp(sol["edp"]) > edp(sol["energy"]) {
		t.Errorf("edp optimum %v worse than another optimum's EDP", edp(sol["edp"]))
	}
	// The default power target is met exactly; the makespan target within 0.2%.
	if sol["archgym_power"].PowerMW != d.TargetPowerMW {
		t.Errorf("archgym_power: %v mW, want the target %v", sol["archgym_power"].PowerMW, d.TargetPowerMW)
	}
	if r := math.Abs(sol["archgym_latency"].TimeNS-d.TargetTimeNS) / d.TargetTimeNS; r > 0.002 {
		t.Errorf("archgym_latency: %v ns, %.4f from the target", sol["archgym_latency"].TimeNS, r)
	}
	if p := sol["power"].PowerMW; !(p > 1900 && p < 2000) {
		t.Errorf("power optimum %v mW", p)
	}
	// A target inside the power range that no design meets exactly: the
	// thinned search finds a design within 1e-9 of it (6.6e-11 when
	// written; the ArchGym cap rewards any design within 1e-3).
	s, err := Solve(chans, "archgym_power", 0, 4321.123456789)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(s.PowerMW-4321.123456789) / 4321.123456789; d > 1e-9 {
		t.Errorf("archgym_power at 4321.12 mW: distance %v (exact %v)", d, s.Exact)
	}
}
