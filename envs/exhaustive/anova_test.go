package exhaustive

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	_ "github.com/commgraph/commgraph/envs/dram" // registers the DRAM objective presets
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestDecomposeHandComputed checks a 2x2 factorial by hand: y = a + 2b + 3ab
// with a, b coded -1/+1 has mean 0, SS_a = 4*1 = 4, SS_b = 4*4 = 16,
// SS_ab = 4*9 = 36 and total 56.
func TestDecomposeHandComputed(t *testing.T) {
	code := []float64{-1, 1}
	var y []float64
	for _, a := range code {
		for _, b := range code {
			y = append(y, a+2*b+3*a*b)
		}
	}
	d, err := Decompose(y, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if !near(d.Mean, 0, 1e-12) || !near(d.TotalSS, 56, 1e-12) || !near(d.Main[0], 4, 1e-12) ||
		!near(d.Main[1], 16, 1e-12) || !near(d.Pair[0][1], 36, 1e-12) || d.Pair[1][0] != d.Pair[0][1] {
		t.Fatalf("decomposition %+v, want mean 0, total 56, main [4 16], pair 36", d)
	}
}

// TestDecomposeAdditiveHasNoInteraction: a purely additive response puts all
// variance into main effects; on a two-knob factorial main + pair = total
// for any response.
func TestDecomposeAdditiveHasNoInteraction(t *testing.T) {
	radices := []int{3, 4, 2, 5}
	rng := rand.New(rand.NewPCG(1, 2))
	eff := make([][]float64, len(radices))
	for k, r := range radices {
		for range r {
			eff[k] = append(eff[k], rng.NormFloat64())
		}
	}
	n := 3 * 4 * 2 * 5
	y := make([]float64, n)
	cfg := make([]int, 4)
	for i := range n {
		decodeIndex(int64(i), radices, cfg)
		for k, v := range cfg {
			y[i] += eff[k][v]
		}
	}
	d, _ := Decompose(y, radices)
	var mains float64
	for a := range radices {
		mains += d.MainShare(a)
		for b := range radices {
			if a != b && d.PairShare(a, b) > 1e-12 {
				t.Fatalf("additive response: pair (%d,%d) share %g", a, b, d.PairShare(a, b))
			}
		}
	}
	if !near(mains, 1, 1e-12) {
		t.Fatalf("additive response: main shares sum to %v", mains)
	}

	z := make([]float64, 12)
	for i := range z {
		z[i] = rng.Float64()
	}
	d2, _ := Decompose(z, []int{3, 4})
	if s := d2.MainShare(0) + d2.MainShare(1) + d2.PairShare(0, 1); !near(s, 1, 1e-12) {
		t.Fatalf("two-knob factorial: shares sum to %v, want 1", s)
	}
}

// plantedSpace is a test-only design space whose log-metric is additive
// except for two planted interactions: knobs 1 x 4 strongly and 0 x 3 less
// so. Main effects are deliberately larger than the interactions so that a
// ranking by raw effect size would not find the pairs.
type plantedSpace struct{ radices []int }

func (s plantedSpace) Name() string { return "planted" }
func (s plantedSpace) Knobs() []envs.Knob {
	ks := make([]envs.Knob, len(s.radices))
	for k, r := range s.radices {
		ks[k].Name = "k" + strconv.Itoa(k)
		for v := range r {
			ks[k].Values = append(ks[k].Values, strconv.Itoa(v))
		}
	}
	return ks
}
func (s plantedSpace) MetricNames() []string { return []string{"time_ns", "energy_pJ"} }
func (s plantedSpace) Evaluate(cfg []int, out []float64) error {
	var l float64
	for k, v := range cfg {
		l += float64(k+1) * 0.3 * float64(v) // main effects
	}
	l += 0.4 * math.Sin(float64(3*cfg[1]+1)) * math.Cos(float64(2*cfg[4])) // planted 1x4
	l += 0.2 * float64((cfg[0]%2)*(cfg[3]%3))                              // planted 0x3
	out[0] = math.Exp(l)
	out[1] = math.Exp(0.5*l + 0.1*float64(cfg[2])) // energy: same pairs
	return nil
}

func TestInteractionsRankPlantedPairsFirst(t *testing.T) {
	ds := plantedSpace{radices: []int{4, 3, 5, 6, 4, 3}}
	path := filepath.Join(t.TempDir(), "planted.sweep")
	if _, err := Run(context.Background(), ds, path, Options{Jobs: 2}); err != nil {
		t.Fatal(err)
	}
	tab, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ComputeInteractions(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(r.Metrics); got != 3 || r.Metrics[2].Metric != MetricEDP {
		t.Fatalf("metrics %d (want time, energy and derived edp)", got)
	}
	for _, m := range r.Metrics {
		top := m.Top(2)
		if top[0].A != "k1" || top[0].B != "k4" || top[1].A != "k0" || top[1].B != "k3" {
			t.Fatalf("%s: top pairs %+v, want k1-k4 then k0-k3", m.Metric, top)
		}
		if third := m.Pairs[2].Share; third > 1e-12 {
			t.Fatalf("%s: unplanted pair %s-%s has share %g", m.Metric, m.Pairs[2].A, m.Pairs[2].B, third)
		}
		if !near(m.MainTotal+m.PairTotal+m.Higher, 1, 1e-9) || m.Higher > 1e-9 {
			t.Fatalf("%s: shares main %v pair %v higher %v", m.Metric, m.MainTotal, m.PairTotal, m.Higher)
		}
	}
	js, err := r.JSON()
	if err != nil || !strings.Contains(string(js), `"a": "k1"`) {
		t.Fatalf("JSON: %v\n%s", err, js)
	}
	d, err := r.DOT("time_ns", 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	s := string(d)
	if !strings.Contains(s, "k1 -- k4") || !strings.Contains(s, "k0 -- k3") || strings.Count(s, " -- ") != 2 {
		t.Fatalf("DOT should hold exactly the two planted edges:\n%s", s)
	}
	w := fmt.Sprintf("weight=%s", fmtShare(r.Metric("time_ns").Pairs[0].Share))
	if !strings.Contains(s, w) {
		t.Fatalf("DOT lacks %s:\n%s", w, s)
	}
}

func TestInteractionsRejectNonPositive(t *testing.T) {
	tab := &Table{Header: Header{Space: "z", Knobs: []KnobInfo{{Name: "a", Values: []string{"0", "1"}}}, Metrics: []string{"m"}, Configs: 2}, Data: []float64{1, 0}}
	tab.init()
	if _, err := ComputeInteractions(tab, nil); err == nil || !strings.Contains(err.Error(), "configuration 1") {
		t.Fatalf("err = %v, want one naming configuration 1", err)
	}
	if _, err := ComputeInteractions(tab, []string{"nope"}); err == nil {
		t.Fatal("unknown metric accepted")
	}
}

func TestBestFindsMinimumAndTies(t *testing.T) {
	tab := &Table{Header: Header{Space: "z", Knobs: []KnobInfo{{Name: "a", Values: []string{"0", "1", "2", "3", "4"}}}, Metrics: []string{"m"}, Configs: 5},
		Data: []float64{3, math.NaN(), 1, 2, 1}}
	tab.init()
	i, v, ties := Best(tab, func(r []float64) float64 { return r[0] })
	if i != 2 || v != 1 || ties != 2 {
		t.Fatalf("Best = %d, %v, %d ties; want 2, 1, 2", i, v, ties)
	}
	i, v, ties = Best(tab, func(r []float64) float64 { return -r[0] })
	if i != 0 || v != -3 || ties != 1 {
		t.Fatalf("Best(-m) = %d, %v, %d; want 0, -3, 1", i, v, ties)
	}
	if i, _, _ := Best(tab, func([]float64) float64 { return math.NaN() }); i != -1 {
		t.Fatalf("all-NaN Best = %d, want -1", i)
	}
}

func TestBestForObjectivePresets(t *testing.T) {
	tab := &Table{Header: Header{Space: "z", Knobs: []KnobInfo{{Name: "a", Values: []string{"0", "1", "2"}}},
		Metrics: []string{"time_ns", "energy_pJ", "power_mW"}, Configs: 3},
		Data: []float64{
			100, 50, 900, // edp 5000, power closest to 1 W after config 2
			80, 70, 1200, // fastest, edp 5600
			120, 40, 1001, // lowest energy and edp 4800, power 1 mW off target
		}}
	tab.init()
	for name, want := range map[string]int{"latency": 1, "energy": 2, "edp": 2, "power": 0, "archgym_power": 2} {
		c, err := envs.ObjectivePreset(name)
		if err != nil {
			t.Fatal(err)
		}
		o, err := c.Bind(tab.Metrics)
		if err != nil {
			t.Fatal(err)
		}
		if i, _, _ := BestFor(tab, o); i != want {
			t.Errorf("%s: best %d, want %d", name, i, want)
		}
	}
}
