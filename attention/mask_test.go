package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// runForward evaluates build on float64 inputs and returns the output values.
func runForward(t *testing.T, ins []input, build func(b *Binder, n []*G.Node) (*G.Node, error)) []float64 {
	t.Helper()
	g := G.NewGraph()
	b := NewBinder(g)
	nodes := make([]*G.Node, len(ins))
	for i, in := range ins {
		tt := tensor.New(tensor.WithShape(in.shape...), tensor.WithBacking(append([]float64(nil), in.vals...)))
		nodes[i] = G.NewTensor(g, tensor.Float64, len(in.shape), G.WithShape(in.shape...), G.WithName(in.name), G.WithValue(tt))
	}
	out, err := build(b, nodes)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), out.Value().(*tensor.Dense).Float64s()...)
}

// linRef computes x W + b by hand.
func linRef(l *Linear, x []float64) []float64 {
	w, bias := l.W.Value.Float64s(), l.B.Value.Float64s()
	m := len(x) / l.In
	y := make([]float64, m*l.Out)
	for r := 0; r < m; r++ {
		for o := 0; o < l.Out; o++ {
			s := bias[o]
			for i := 0; i < l.In; i++ {
				s += x[r*l.In+i] * w[i*l.Out+o]
			}
			y[r*l.Out+o] = s
		}
	}
	return y
}

// TestFullGraphEqualsDenseAttention: with A all ones (S = 1) and no gate,
// graph-masked attention is plain dense multi-head softmax attention with the
// relation terms of edge type 1, computed here independently.
func TestFullGraphEqualsDenseAttention(t *testing.T) {
	const B, N, d, H = 3, 4, 6, 2
	dh := d / H
	rng := rand.New(rand.NewPCG(6, 1))
	ps := NewParams(tensor.Float64)
	mha := NewMultiHeadAttention(ps, "mha", d, H, false, rng)
	emb := NewEdgeEmbedding(ps, "edge", d, rng)
	x := randVals(rng, B*N*d, -1, 1)
	ones := make([]float64, N*N)
	for i := range ones {
		ones[i] = 1
	}
	got := runForward(t, []input{{"x", []int{B * N, d}, x, false}, {"A", []int{N, N}, ones, false}},
		func(b *Binder, n []*G.Node) (*G.Node, error) {
			e, err := emb.Forward(b, n[1])
			if err != nil {
				return nil, err
			}
			return mha.Forward(b, n[0], n[0], CommGraph{N: N, A: n[1], Edge: e})
		})

	q, k, v := linRef(mha.Q, x), linRef(mha.K, x), linRef(mha.V, x)
	e1 := emb.Table.Value.Float64s()[d:] // every pair has an edge
	ra, rb := linRef(mha.RelA, e1), linRef(mha.RelB, e1)
	att := make([]float64, B*N*d)
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			for i := 0; i < N; i++ {
				s := make([]float64, N)
				mx := math.Inf(-1)
				for j := 0; j < N; j++ {
					for c := h * dh; c < (h+1)*dh; c++ {
						s[j] += (q[(b*N+i)*d+c] + ra[c]) * (k[(b*N+j)*d+c] + rb[c])
					}
					s[j] /= math.Sqrt(float64(dh))
					mx = math.Max(mx, s[j])
				}
				var z float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					z += s[j]
				}
				for j := range s {
					for c := h * dh; c < (h+1)*dh; c++ {
						att[(b*N+i)*d+c] += s[j] / z * v[(b*N+j)*d+c]
					}
				}
			}
		}
	}
	want := linRef(mha.O, att)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("out[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestSelfOnlyRowIsIndependent: an agent whose graph row is self-only (and,
// separately, whose gate is closed) produces an encoder output that does not
// depend on the other agents' inputs, while an agent that listens does.
func TestSelfOnlyRowIsIndependent(t *testing.T) {
	const B, N, d = 2, 3, 4
	rng := rand.New(rand.NewPCG(7, 1))
	ps := NewParams(tensor.Float64)
	enc := NewEncoderBlock(ps, "enc", d, 2, rng)
	emb := NewEdgeEmbedding(ps, "edge", d, rng)
	// Agent 0 hears nobody; agents 1, 2 hear everyone.
	a := []float64{0, 0, 0, 1, 1, 1, 1, 1, 1}
	// Gate: in sample 1, agent 2's gate is closed.
	gate := []float64{1, 1, 1, 1, 1, 0}
	x := randVals(rng, B*N*d, -1, 1)
	run := func(x []float64) []float64 {
		return runForward(t, []input{{"x", []int{B * N, d}, x, false}, {"A", []int{N, N}, a, false}, {"g", []int{B, N}, gate, false}},
			func(b *Binder, n []*G.Node) (*G.Node, error) {
				e, err := emb.Forward(b, n[1])
				if err != nil {
					return nil, err
				}
				return enc.Forward(b, n[0], CommGraph{N: N, A: n[1], Edge: e, Gate: n[2]})
			})
	}
	base := run(x)
	// Perturb agent 1's input in both samples.
	x2 := append([]float64(nil), x...)
	for b := 0; b < B; b++ {
		for c := 0; c < d; c++ {
			x2[(b*N+1)*d+c] += 0.7
		}
	}
	pert := run(x2)
	rowDiff := func(row int) float64 {
		var m float64
		for c := 0; c < d; c++ {
			m = math.Max(m, math.Abs(base[row*d+c]-pert[row*d+c]))
		}
		return m
	}
	for b := 0; b < B; b++ {
		if dd := rowDiff(b*N + 0); dd != 0 {
			t.Errorf("sample %d: self-only agent 0 changed by %v when agent 1's input changed", b, dd)
		}
	}
	if dd := rowDiff(1*N + 2); dd != 0 {
		t.Errorf("gated-off agent 2 in sample 1 changed by %v", dd)
	}
	if dd := rowDiff(0*N + 2); dd < 1e-6 {
		t.Errorf("listening agent 2 in sample 0 did not react (%v)", dd)
	}
}

// TestAbsentEdgeGradient: the gradient of an edge that the mask leaves out
// (A_ij = 0, or a closed gate) is the one-sided derivative of the
// renormalised attention, so the learned graph can tell whether adding the
// edge would lower the loss. Checked against a forward difference at 0, on a
// causal, decoding-ordered, relation-aware case.
func TestAbsentEdgeGradient(t *testing.T) {
	const B, N, H, Dh = 2, 4, 2, 3
	D := H * Dh
	rng := rand.New(rand.NewPCG(21, 2))
	rv := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	q, k, v, ra, rb, gout := rv(B*N*D), rv(B*N*D), rv(B*N*D), rv(N*N*D), rv(N*N*D), rv(B*N*D)
	a := []float64{
		0, 1, 0, 1,
		1, 0, 0, 0,
		0, 1, 0, 1,
		1, 0, 1, 0,
	}
	g := []float64{1, 1, 0, 1, 1, 1, 1, 1} // receiver 2 of sample 0 has its gate closed
	for _, causal := range []bool{false, true} {
		s := attnShape{B: B, N: N, H: H, Dh: Dh, Causal: causal, Rank: []int32{3, 0, 2, 1, 1, 2, 0, 3}}
		loss := func(a, g []float64) float64 {
			out := make([]float64, B*N*D)
			attnForward(s, nil, nil, 0, N, out, q, k, v, ra, rb, a, g, nil)
			var l float64
			for i := range out {
				l += out[i] * gout[i]
			}
			return l
		}
		da, dg := make([]float64, N*N), make([]float64, B*N)
		gr := attnGrads[float64]{dq: make([]float64, B*N*D), dk: make([]float64, B*N*D), dv: make([]float64, B*N*D), da: da, dra: make([]float64, N*N*D), drb: make([]float64, N*N*D), dg: dg}
		attnBackward(s, nil, nil, gr, gout, q, k, v, ra, rb, a, g, nil)
		const h = 1e-7
		base := loss(a, g)
		nonzero := 0
		for e := range a {
			if a[e] != 0 || e/N == e%N {
				continue
			}
			a2 := append([]float64(nil), a...)
			a2[e] = h
			num := (loss(a2, g) - base) / h
			if math.Abs(num-da[e]) > 1e-5*(1+math.Abs(num)) {
				t.Errorf("causal=%v: dL/dA[%d][%d] = %.9g, forward difference %.9g", causal, e/N, e%N, da[e], num)
			}
			if num != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Errorf("causal=%v: no absent edge has a gradient", causal)
		}
		// The closed gate (sample 0, receiver 2).
		g2 := append([]float64(nil), g...)
		g2[2] = h
		num := (loss(a, g2) - base) / h
		if math.Abs(num-dg[2]) > 1e-5*(1+math.Abs(num)) || num == 0 {
			t.Errorf("causal=%v: dL/dg of the closed gate = %.9g, forward difference %.9g", causal, dg[2], num)
		}
	}
}

// TestAbsentEdgeGradientFinite: a sender the mask leaves out whose score
// exceeds every heard sender's by far more than the float32 range (the
// exact gradient exp(s_ij)/Z_bi (...) is then astronomically large) gets a
// finite mask gradient of the exact one's sign, saturated at about e^60
// (maxLeftOutLogRatio), in float32 as in float64, and summed over many
// samples, instead of +-Inf and NaN (which stopped DSE runs at lr 5e-3 on a
// non-finite alpha gradient). Heard pairs' gradients are unchanged.
func TestAbsentEdgeGradientFinite(t *testing.T) {
	t.Run("float32", func(t *testing.T) { absentEdgeFinite[float32](t) })
	t.Run("float64", func(t *testing.T) { absentEdgeFinite[float64](t) })
}

func absentEdgeFinite[T float](t *testing.T) {
	const B, N, H, Dh = 64, 3, 1, 2
	D := H * Dh
	q, k, v, gout := make([]T, B*N*D), make([]T, B*N*D), make([]T, B*N*D), make([]T, B*N*D)
	for b := range B {
		for i := range N {
			r := (b*N + i) * D
			q[r] = 40 // s_ij = q_i . k_j / sqrt(2)
			k[r] = T(map[int]float64{0: 0, 1: 0, 2: 5}[i])
			v[r] = T(i)     // sender 2 carries 2, the heard ones 0 and 1
			gout[r] = 1     // the loss grows with what receiver i hears
			gout[r+1] = 0.5 // (every receiver)
		}
	}
	// Receiver 0 hears sender 1 only; sender 2, left out, scores 40*5/sqrt2
	// = 141 above it: exp(141) overflows float32 by far.
	a := []T{
		0, 1, 0,
		1, 0, 1,
		1, 1, 0,
	}
	s := attnShape{B: B, N: N, H: H, Dh: Dh}
	da := make([]T, N*N)
	gr := attnGrads[T]{dq: make([]T, B*N*D), dk: make([]T, B*N*D), dv: make([]T, B*N*D), da: da}
	attnBackward(s, nil, nil, gr, gout, q, k, v, nil, nil, a, nil, nil)
	for e, x := range da {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("dL/dA[%d][%d] = %v, want finite", e/N, e%N, x)
		}
	}
	// Adding sender 2 to receiver 0 would raise what it hears (v = 2 against
	// the 1 of sender 1): a large positive gradient, at the cap's scale.
	if g := float64(da[0*N+2]); !(g > 1e25) {
		t.Errorf("dL/dA[0][2] = %g, want a saturated positive gradient (> 1e25)", g)
	}
	// The same case with sender 2 within range (its key scaled down to a
	// score 14 above sender 1's) is the exact gradient, uncapped.
	for b := range B {
		k[(b*N+2)*D] = 0.5
	}
	clear(da)
	attnBackward(s, nil, nil, gr, gout, q, k, v, nil, nil, a, nil, nil)
	// Receiver 0 hears itself and sender 1 (scores 0, 0): Z = 2, o_0 = (0.5,
	// 0), so per sample exp(s_02) / 2 x (gout . v_2 - gout . o_0) = exp(s_02)
	// / 2 x (2 - 0.5).
	want := float64(B) * math.Exp(40*0.5/math.Sqrt2) / 2 * 1.5
	if g := float64(da[0*N+2]); math.Abs(g-want) > 1e-4*want {
		t.Errorf("within range: dL/dA[0][2] = %g, want %g", g, want)
	}
}
