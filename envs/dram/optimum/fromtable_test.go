package optimum

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// fakeDRAM has the DRAM knobs and metrics with cheap, index-defined values:
// time is smallest (1000 ns) at indices = 992 (mod 997), power is exactly
// on ArchGym's 1 W target at index 3 only.
type fakeDRAM struct{ radices []int }

func (fakeDRAM) Name() string          { return "dram/fake" }
func (fakeDRAM) Knobs() []envs.Knob    { return dram.Knobs() }
func (fakeDRAM) MetricNames() []string { return []string{"time_ns", "energy_pJ", "power_mW"} }
func (f fakeDRAM) Evaluate(cfg []int, out []float64) error {
	i, _ := exhaustive.Encode(cfg, f.radices)
	out[0] = 1000 + float64((i+5)%997)
	out[1] = 2e6 + float64((i*7)%1009)
	out[2] = 1200 + float64(i%50000)/10
	if i == 3 {
		out[2] = 1000
	}
	return nil
}

func TestFromTable(t *testing.T) {
	f := fakeDRAM{}
	for _, k := range dram.Knobs() {
		f.radices = append(f.radices, len(k.Values))
	}
	path := filepath.Join(t.TempDir(), "fake.sweep")
	if _, err := exhaustive.Run(context.Background(), f, path, exhaustive.Options{ChunkSize: 1 << 15}); err != nil {
		t.Fatal(err)
	}
	tab, err := exhaustive.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	of, err := FromTable(tab, "test command")
	if err != nil {
		t.Fatal(err)
	}
	if of.Trace != "fake" || of.Command != "test command" || len(of.Objectives) != len(ObjectiveNames()) {
		t.Fatalf("file %+v", of)
	}
	lat, _ := of.Entry("latency")
	cfg := tab.Config(992, nil)
	if lat.Index != 992 || lat.Metrics.TimeNS != 1000 || lat.Ties != 443 || lat.Config["MaxActiveTransactions"] != dram.Knobs()[9].Values[cfg[9]] {
		t.Fatalf("latency optimum %+v, want index 992, 1000 ns, 443 ties", lat)
	}
	pw, _ := of.Entry("archgym_power")
	if pw.Index != 3 || pw.Reward != 1000 || pw.AtCap != 1 || pw.Value != 0 {
		t.Fatalf("archgym_power optimum %+v, want index 3 on target with reward 1000", pw)
	}
	if _, err := of.Entry("nope"); err == nil || !strings.Contains(err.Error(), "archgym_latency") {
		t.Fatalf("unknown objective: %v", err)
	}
	js, _ := of.JSON()
	back, err := Parse(js, "x.json")
	if err != nil || back.Objectives[0].Index != of.Objectives[0].Index {
		t.Fatalf("JSON round trip: %v", err)
	}
	if _, err := Parse([]byte(`{"trace":"x","bogus":1}`), "bad.json"); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("unknown field accepted: %v", err)
	}
}

func TestRegret(t *testing.T) {
	f, err := Load("stream")
	if err != nil {
		t.Fatal(err)
	}
	lat, _ := f.Entry("latency")
	opt := []float64{lat.Metrics.TimeNS, lat.Metrics.EnergyPJ, lat.Metrics.PowerMW}
	if r, _ := lat.Regret(opt); r != 0 {
		t.Fatalf("regret of the optimum itself = %v", r)
	}
	slow := []float64{1.5 * lat.Metrics.TimeNS, lat.Metrics.EnergyPJ, lat.Metrics.PowerMW}
	if r, _ := lat.Regret(slow); r < 0.4999999 || r > 0.5000001 {
		t.Fatalf("50%% slower design: regret %v, want 0.5", r)
	}
	pw, _ := f.Entry("archgym_power")
	off := []float64{1, 1, 1100} // 10% above the 1 W target
	if r, _ := pw.Regret(off); r < 0.1-pw.Value-1e-9 || r > 0.1-pw.Value+1e-9 {
		t.Fatalf("archgym_power regret %v, want 0.1 - %v", r, pw.Value)
	}
	if _, err := lat.Regret([]float64{1}); err == nil {
		t.Fatal("short metric vector accepted")
	}
}
