package synthetic

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/envtest"
)

func TestContract(t *testing.T) {
	envtest.DesignSpace(t, MustNew(DRAMLike(1)))
}

// all enumerates the full factorial.
func all(values []int) [][]int {
	out := [][]int{{}}
	for _, n := range values {
		var next [][]int
		for _, c := range out {
			for v := range n {
				next = append(next, append(append([]int(nil), c...), v))
			}
		}
		out = next
	}
	return out
}

// TestExactANOVA computes the two-way functional ANOVA of f over the full
// factorial by brute force and checks it against the planted truth: main
// variances MainScale^2, pair variances S^2 exactly for planted pairs and 0
// for the others, and no variance left for higher orders.
func TestExactANOVA(t *testing.T) {
	cfg := Config{Values: []int{3, 2, 4, 3, 1}, Pairs: []Pair{{0, 2, 1.3}, {3, 1, -0.5}}, MainScale: 0.8, Seed: 7}
	s := MustNew(cfg)
	cs := all(cfg.Values)
	ys := make([]float64, len(cs))
	grand := 0.0
	for i, c := range cs {
		ys[i] = s.F(c)
		grand += ys[i]
	}
	grand /= float64(len(cs))
	total := 0.0
	for _, y := range ys {
		total += (y - grand) * (y - grand)
	}
	total /= float64(len(cs))
	k := len(cfg.Values)
	mainEff := make([][]float64, k)
	sumMain := 0.0
	for i := range k {
		mainEff[i] = make([]float64, cfg.Values[i])
		cnt := make([]float64, cfg.Values[i])
		for j, c := range cs {
			mainEff[i][c[i]] += ys[j]
			cnt[c[i]]++
		}
		v := 0.0
		for a := range mainEff[i] {
			mainEff[i][a] = mainEff[i][a]/cnt[a] - grand
			v += mainEff[i][a] * mainEff[i][a] / float64(cfg.Values[i])
		}
		want := 0.64
		if cfg.Values[i] == 1 {
			want = 0
		}
		if math.Abs(v-want) > 1e-9 || math.Abs(s.MainVariance(i)-want) > 1e-9 {
			t.Errorf("knob %d main variance %v (reported %v), want %v", i, v, s.MainVariance(i), want)
		}
		sumMain += v
	}
	sumPair := 0.0
	for a := range k {
		for b := a + 1; b < k; b++ {
			na, nb := cfg.Values[a], cfg.Values[b]
			m := make([]float64, na*nb)
			cnt := make([]float64, na*nb)
			for j, c := range cs {
				m[c[a]*nb+c[b]] += ys[j]
				cnt[c[a]*nb+c[b]]++
			}
			v := 0.0
			for x := range na {
				for y := range nb {
					e := m[x*nb+y]/cnt[x*nb+y] - grand - mainEff[a][x] - mainEff[b][y]
					v += e * e / float64(na*nb)
				}
			}
			if math.Abs(v-s.PairVariance(a, b)) > 1e-9 {
				t.Errorf("pair (%d,%d) variance %v, planted %v", a, b, v, s.PairVariance(a, b))
			}
			sumPair += v
		}
	}
	if math.Abs(s.PairVariance(0, 2)-1.69) > 1e-12 || math.Abs(s.PairVariance(1, 3)-0.25) > 1e-12 {
		t.Error("PairVariance does not report S^2")
	}
	if math.Abs(total-sumMain-sumPair) > 1e-9 || math.Abs(total-s.TotalVariance()) > 1e-9 {
		t.Errorf("total variance %v, main+pairs %v, reported %v", total, sumMain+sumPair, s.TotalVariance())
	}
}

// TestInteractionContrasts: on the DRAM-like space, the 2x2 interaction
// contrast f(a1,b1)-f(a1,b0)-f(a0,b1)+f(a0,b0) vanishes for unplanted pairs
// and not for planted ones, whatever the other knobs are set to.
func TestInteractionContrasts(t *testing.T) {
	s := MustNew(DRAMLike(3))
	vals := DRAMLike(3).Values
	r := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		c := make([]int, len(vals))
		for i, n := range vals {
			c[i] = r.IntN(n)
		}
		a, b := r.IntN(len(vals)), r.IntN(len(vals))
		if a == b {
			continue
		}
		a0, a1 := r.IntN(vals[a]), r.IntN(vals[a])
		b0, b1 := r.IntN(vals[b]), r.IntN(vals[b])
		f := func(x, y int) float64 { c[a], c[b] = x, y; return s.F(c) }
		contrast := f(a1, b1) - f(a1, b0) - f(a0, b1) + f(a0, b0)
		planted := s.PairVariance(a, b) > 0
		if !planted && math.Abs(contrast) > 1e-12 {
			t.Fatalf("unplanted pair (%d,%d) has contrast %v", a, b, contrast)
		}
	}
	// A planted pair does interact somewhere.
	c := make([]int, len(vals))
	f := func(x, y int) float64 { c[8], c[9] = x, y; return s.F(c) }
	if math.Abs(f(1, 1)-f(1, 0)-f(0, 1)+f(0, 0)) < 1e-6 && math.Abs(f(2, 7)-f(2, 0)-f(0, 7)+f(0, 0)) < 1e-6 {
		t.Error("planted pair (8,9) shows no interaction")
	}
}

func TestDeterminismAndMetrics(t *testing.T) {
	a, b, c := MustNew(DRAMLike(5)), MustNew(DRAMLike(5)), MustNew(DRAMLike(6))
	cfg := []int{1, 2, 0, 7, 1, 0, 3, 2, 1, 5}
	oa, ob, oc := make([]float64, 2), make([]float64, 2), make([]float64, 2)
	_ = a.Evaluate(cfg, oa)
	_ = b.Evaluate(cfg, ob)
	_ = c.Evaluate(cfg, oc)
	if oa[0] != ob[0] || oa[1] != ob[1] {
		t.Error("same seed, different values")
	}
	if oa[0] == oc[0] {
		t.Error("different seeds, same value")
	}
	if math.Abs(oa[1]-math.Exp(oa[0])) > 1e-12*oa[1] {
		t.Error("exp_y != exp(y)")
	}
	if envs.Size(a) != 442368 {
		t.Errorf("size %d", envs.Size(a))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{},
		{Values: []int{2, 0}},
		{Values: []int{2, 2}, Pairs: []Pair{{0, 0, 1}}},
		{Values: []int{2, 2}, Pairs: []Pair{{0, 2, 1}}},
		{Values: []int{2, 1}, Pairs: []Pair{{0, 1, 1}}},
		{Values: []int{2, 2}, Pairs: []Pair{{0, 1, 1}, {1, 0, 1}}},
		{Values: []int{2, 2}, KnobNames: []string{"x"}},
		{Values: []int{2, 2}, Pairs: []Pair{{0, 1, math.NaN()}}},
		{Values: []int{2, 2}, MainScale: -1}, // once "no main effects"; now NoMainEffects says that
		{Values: []int{2, 2}, MainScale: math.NaN()},
		{Values: []int{2, 2}, MainScale: math.Inf(1)},
		{Values: []int{2, 2}, MainScale: 2, NoMainEffects: true},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

// TestNoMainEffects: without main effects the landscape is the planted pair
// terms alone: every main variance is 0 and, over the full factorial, f has
// mean 0 and variance sum S^2 (the pair terms are orthogonal); with the
// same seed the pair terms are those of the landscape with main effects.
func TestNoMainEffects(t *testing.T) {
	values := []int{3, 4, 2, 3}
	pairs := []Pair{{0, 1, 1.5}, {2, 3, 0.5}}
	none := MustNew(Config{Values: values, Pairs: pairs, NoMainEffects: true, Seed: 3})
	with := MustNew(Config{Values: values, Pairs: pairs, Seed: 3})
	for i := range values {
		if v := none.MainVariance(i); v != 0 {
			t.Errorf("knob %d: main variance %v, want 0", i, v)
		}
		if v := with.MainVariance(i); math.Abs(v-DefaultMainScale*DefaultMainScale) > 1e-12 {
			t.Errorf("knob %d: default main variance %v, want %v", i, v, DefaultMainScale*DefaultMainScale)
		}
	}
	designs := all(values)
	out, outW := make([]float64, 2), make([]float64, 2)
	mean, sq := 0.0, 0.0
	for _, x := range designs {
		if err := none.Evaluate(x, out); err != nil {
			t.Fatal(err)
		}
		if err := with.Evaluate(x, outW); err != nil {
			t.Fatal(err)
		}
		main := 0.0
		for i, v := range x {
			main += with.main[i][v]
		}
		if math.Abs(outW[0]-main-out[0]) > 1e-12 {
			t.Fatalf("design %v: f without main effects %v, with them %v minus mains %v", x, out[0], outW[0], main)
		}
		mean += out[0]
		sq += out[0] * out[0]
	}
	n := float64(len(designs))
	mean /= n
	if v := sq/n - mean*mean; math.Abs(mean) > 1e-12 || math.Abs(v-(1.5*1.5+0.5*0.5)) > 1e-9 {
		t.Errorf("mean %v variance %v, want 0 and %v", mean, v, 1.5*1.5+0.5*0.5)
	}
}
