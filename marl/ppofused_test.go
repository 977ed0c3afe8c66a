package marl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ppoCase is one batch of loss inputs; rows straddle both clip bounds, the
// Huber threshold and ties (s1 = s2, ratio at a bound, equal errors).
type ppoCase struct {
	R, A                                  int
	logp, onehot                          []float64
	lpg, oldLogp, adv, values, oldV, targ []float64
	ew, vw                                float64
}

func newPPOCase(R, A int, seed uint64) ppoCase {
	rng := rand.New(rand.NewPCG(seed, 7))
	c := ppoCase{R: R, A: A, ew: 0.013, vw: 0.7}
	for r := 0; r < R; r++ {
		x := make([]float64, A)
		m := math.Inf(-1)
		for a := range x {
			x[a] = 2 * rng.NormFloat64()
			m = math.Max(m, x[a])
		}
		var s float64
		for a := range x {
			s += math.Exp(x[a] - m)
		}
		taken := rng.IntN(A)
		for a := range x {
			c.logp = append(c.logp, x[a]-m-math.Log(s))
			c.onehot = append(c.onehot, b2f(a == taken))
		}
		chosen := c.logp[r*A+taken]
		lpg := 0.3 * rng.NormFloat64()
		c.lpg = append(c.lpg, lpg)
		// The ratio's log spreads over +-0.5: about half the rows clipped.
		old := chosen + lpg + 0.25*rng.NormFloat64()
		if r%11 == 3 {
			old = chosen + lpg // ratio exactly 1
		}
		c.oldLogp = append(c.oldLogp, old)
		adv := rng.NormFloat64()
		if r%13 == 5 {
			adv = 0 // s1 = s2
		}
		c.adv = append(c.adv, adv)
		v, t := 5*rng.NormFloat64(), 15*rng.NormFloat64() // errors on both sides of delta = 10
		c.values = append(c.values, v)
		c.oldV = append(c.oldV, v+0.4*rng.NormFloat64())
		if r%17 == 2 {
			t = v // zero error
		}
		c.targ = append(c.targ, t)
	}
	return c
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func denseOf(dt tensor.Dtype, x []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(x))
		for i, v := range x {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), x...)))
}

// ppoResult is what a loss graph gives: the three losses, the ratio and
// the gradients of logp, values and lpg, all as float64 bit patterns of the
// graph's dtype.
type ppoResult struct {
	losses, ratio, dLogp, dValues, dLpg []float64
}

func floats(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	panic(fmt.Sprintf("floats: %T", v.Data()))
}

// runPPOGraph builds the loss (fused or the elementwise chain) on c, with
// the trainer's total policy - ew*entropy + vw*value, and returns its values
// and gradients.
func runPPOGraph(t *testing.T, c ppoCase, dt tensor.Dtype, fused, gate bool) ppoResult {
	t.Helper()
	g := G.NewGraph()
	in := func(name string, x []float64, shape ...int) *G.Node {
		v := denseOf(dt, x, shape...)
		if len(shape) == 2 {
			return G.NewMatrix(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(v))
		}
		return G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(v))
	}
	logp := in("logp", c.logp, c.R, c.A)
	oh := in("onehot", c.onehot, c.R, c.A)
	ol, adv := in("old", c.oldLogp, c.R), in("adv", c.adv, c.R)
	vals, ov, targ := in("v", c.values, c.R), in("ov", c.oldV, c.R), in("t", c.targ, c.R)
	var lpg *G.Node
	if gate {
		lpg = in("lpg", c.lpg, c.R)
	}
	coefs := defaultPPOCoefs()
	var pol, val, ent, ratio *G.Node
	var fp *FusedPPO
	var err error
	if fused {
		if fp, err = BuildFusedPPO(logp, oh, lpg, ol, adv, vals, ov, targ, coefs); err != nil {
			t.Fatal(err)
		}
		pol, val, ent = fp.Policy, fp.Value, fp.Entropy
	} else {
		chosen, e, err := ChosenAndEntropy(logp, oh)
		if err != nil {
			t.Fatal(err)
		}
		if gate {
			if chosen, err = G.Add(chosen, lpg); err != nil {
				t.Fatal(err)
			}
		}
		l, err := BuildPPOLoss(chosen, ol, adv, e, vals, ov, targ, coefs)
		if err != nil {
			t.Fatal(err)
		}
		pol, val, ent, ratio = l.Policy, l.Value, l.Entropy, l.Ratio
	}
	scal := func(x float64) *G.Node {
		if dt == tensor.Float32 {
			return G.NewScalar(g, dt, G.WithValue(float32(x)))
		}
		return G.NewScalar(g, dt, G.WithValue(x))
	}
	ee, err := G.Mul(ent, scal(c.ew))
	if err != nil {
		t.Fatal(err)
	}
	tot, err := G.Sub(pol, ee)
	if err != nil {
		t.Fatal(err)
	}
	ve, err := G.Mul(val, scal(c.vw))
	if err != nil {
		t.Fatal(err)
	}
	if tot, err = G.Add(tot, ve); err != nil {
		t.Fatal(err)
	}
	wrt := G.Nodes{logp, vals}
	if gate {
		wrt = append(wrt, lpg)
	}
	grads, err := G.Grad(tot, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var rp, rv, re, rr G.Value
	rg := make([]G.Value, len(grads))
	G.Read(pol, &rp)
	G.Read(val, &rv)
	G.Read(ent, &re)
	if ratio != nil {
		G.Read(ratio, &rr)
	}
	for i, n := range grads {
		G.Read(n, &rg[i])
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	// Two runs: the second reuses every buffer (as the trainer does).
	for run := 0; run < 2; run++ {
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	res := ppoResult{
		losses:  append(append(floats(rp), floats(rv)...), floats(re)...),
		dLogp:   floats(rg[0]),
		dValues: floats(rg[1]),
	}
	if gate {
		res.dLpg = floats(rg[2])
	}
	if fused {
		res.ratio = floats(fp.Ratio())
	} else {
		res.ratio = floats(rr)
	}
	return res
}

// TestFusedPPOMatchesChain: the fused loss gives the elementwise chain's
// losses, ratios and gradients bit for bit, in float32 and float64, with
// and without the gate's log-probability.
func TestFusedPPOMatchesChain(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, gate := range []bool{false, true} {
			for seed := uint64(1); seed <= 3; seed++ {
				c := newPPOCase(97, 5, seed)
				want := runPPOGraph(t, c, dt, false, gate)
				got := runPPOGraph(t, c, dt, true, gate)
				name := fmt.Sprintf("%v gate=%v seed=%d", dt, gate, seed)
				sameBits(t, name+" losses", got.losses, want.losses)
				sameBits(t, name+" ratio", got.ratio, want.ratio)
				sameBits(t, name+" dlogp", got.dLogp, want.dLogp)
				sameBits(t, name+" dvalues", got.dValues, want.dValues)
				if gate {
					sameBits(t, name+" dlpg", got.dLpg, want.dLpg)
				}
			}
		}
	}
}

func sameBits(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			if bad < 3 {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d differ", name, bad, len(got))
	}
}

// TestFusedPPOShapes: mismatched inputs are refused with the shapes named.
func TestFusedPPOShapes(t *testing.T) {
	g := G.NewGraph()
	m := func(r, c int) *G.Node { return G.NewMatrix(g, tensor.Float32, G.WithShape(r, c)) }
	v := func(r int) *G.Node { return G.NewVector(g, tensor.Float32, G.WithShape(r)) }
	c := defaultPPOCoefs()
	if _, err := BuildFusedPPO(m(4, 3), m(4, 2), nil, v(4), v(4), v(4), v(4), v(4), c); err == nil || !strings.Contains(err.Error(), "(4, 2)") {
		t.Errorf("onehot shape: err %v", err)
	}
	if _, err := BuildFusedPPO(m(4, 3), m(4, 3), nil, v(4), v(5), v(4), v(4), v(4), c); err == nil || !strings.Contains(err.Error(), "want (4)") {
		t.Errorf("vector length: err %v", err)
	}
	if _, err := BuildFusedPPO(m(4, 3), m(4, 3), v(3), v(4), v(4), v(4), v(4), v(4), c); err == nil {
		t.Error("lpg length accepted")
	}
	if _, err := BuildFusedPPO(m(4, 3), m(4, 3), v(4), v(4), v(4), v(4), v(4), v(4), c); err != nil {
		t.Errorf("valid inputs: %v", err)
	}
}
