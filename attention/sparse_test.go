package attention

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// topKGraph returns a 0/1 [N, N] graph whose row i has k senders other than
// i (a fixed top-k graph), drawn from rng; the diagonal is set on odd rows
// (it is ignored: every agent hears itself).
func topKGraph(rng *rand.Rand, n, k int) []float64 {
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		p := rng.Perm(n)
		c := 0
		for _, j := range p {
			if j != i && c < k {
				a[i*n+j] = 1
				c++
			}
		}
		if i%2 == 1 {
			a[i*n+i] = 1
		}
	}
	return a
}

// TestSparseCoreMatchesDense: on a fixed top-k graph the core visiting the
// sender lists gives bit for bit the dense pass's output and the gradients
// of q, k, v, ra, rb and the gate (the same terms in the same order), in
// float32 and float64, plain, causal with per-sample orders, no-self, gated
// (with closed gates), with and without relation terms; the mask gradient
// of the listed pairs too. dq, dk and dv are written whatever the buffers
// held before (bit for bit those of zeroed buffers).
func TestSparseCoreMatchesDense(t *testing.T) {
	t.Run("float64", func(t *testing.T) { sparseCoreCase[float64](t) })
	t.Run("float32", func(t *testing.T) { sparseCoreCase[float32](t) })
}

func sparseCoreCase[T float](t *testing.T) {
	const B, N, H, Dh, K = 3, 9, 2, 4, 3
	D := H * Dh
	rng := rand.New(rand.NewPCG(31, 7))
	rv := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(rng.NormFloat64())
		}
		return v
	}
	a64 := topKGraph(rng, N, K)
	a := make([]T, len(a64))
	for i, v := range a64 {
		a[i] = T(v)
	}
	var sd Senders
	setSenders(&sd, a, N)
	if sd.W != K+1 {
		t.Fatalf("list width %d, want k+1 = %d", sd.W, K+1)
	}
	g := make([]T, B*N)
	for i := range g {
		g[i] = T(0.3 + 0.7*rng.Float64())
	}
	g[4], g[N+2] = 0, 0 // closed gates
	rank := make([]int32, B*N)
	for b := 0; b < B; b++ {
		for p, i := range rng.Perm(N) {
			rank[b*N+i] = int32(p)
		}
	}
	q, k, v, gout := rv(B*N*D), rv(B*N*D), rv(B*N*D), rv(B*N*D)
	for _, rel := range []bool{true, false} {
		var ra, rb []T
		if rel {
			ra, rb = rv(N*N*D), rv(N*N*D)
		}
		for _, c := range []struct {
			causal, noSelf, gate bool
		}{{false, false, false}, {true, false, true}, {true, true, true}, {false, false, true}} {
			s := attnShape{B: B, N: N, H: H, Dh: Dh, Causal: c.causal, NoSelf: c.noSelf}
			if c.causal {
				s.Rank = rank
			}
			var gg []T
			if c.gate {
				gg = g
			}
			// dirty: dq, dk, dv start with the garbage of a previous run
			// (the core writes them; only da, dra, drb, dg accumulate).
			run := func(sdp *Senders, dirty bool) ([]T, attnGrads[T]) {
				out := make([]T, B*N*D)
				W := N
				if sdp != nil {
					W = sdp.W
				}
				probs := make([]float64, B*N*H*W)
				attnForward(s, sdp, nil, 0, N, out, q, k, v, ra, rb, a, gg, probs)
				gr := attnGrads[T]{dq: make([]T, B*N*D), dk: make([]T, B*N*D), dv: make([]T, B*N*D), da: make([]T, N*N)}
				if rel {
					gr.dra, gr.drb = make([]T, N*N*D), make([]T, N*N*D)
				}
				if c.gate {
					gr.dg = make([]T, B*N)
				}
				if dirty {
					for _, x := range [][]T{gr.dq, gr.dk, gr.dv} {
						for i := range x {
							x[i] = T(math.NaN())
						}
					}
				}
				attnBackward(s, sdp, nil, gr, gout, q, k, v, ra, rb, a, gg, probs)
				return out, gr
			}
			od, gd := run(nil, false)
			os, gs := run(&sd, false)
			_, gx := run(&sd, true)
			for _, x := range []struct {
				what string
				a, b []T
			}{{"dq", gs.dq, gx.dq}, {"dk", gs.dk, gx.dk}, {"dv", gs.dv, gx.dv}} {
				for i := range x.a {
					if math.Float64bits(float64(x.a[i])) != math.Float64bits(float64(x.b[i])) {
						t.Fatalf("rel=%v %+v: %s[%d] = %v from a dirty buffer, %v from a zeroed one", rel, c, x.what, i, x.b[i], x.a[i])
					}
				}
			}
			same := func(what string, x, y []T) {
				t.Helper()
				if !slices.Equal(x, y) {
					t.Errorf("rel=%v %+v: %s differs between the dense and the sparse pass", rel, c, what)
				}
			}
			same("output", od, os)
			same("dq", gd.dq, gs.dq)
			same("dk", gd.dk, gs.dk)
			same("dv", gd.dv, gs.dv)
			same("dra", gd.dra, gs.dra)
			same("drb", gd.drb, gs.drb)
			same("dg", gd.dg, gs.dg)
			for i := 0; i < N; i++ {
				for _, j := range sd.row(i) {
					if gd.da[i*N+int(j)] != gs.da[i*N+int(j)] {
						t.Errorf("rel=%v %+v: dA[%d][%d] %v dense, %v sparse", rel, c, i, j, gd.da[i*N+int(j)], gs.da[i*N+int(j)])
					}
				}
			}
		}
	}
}

// TestGradBlocksSparse is TestGradBlocks on a fixed top-k graph with the
// sparse pass on (Sparse.On): the gradients of every parameter and of the
// inputs (observations, actions, decoder stream, gates) against central
// differences. A is constant here (its unselected edges' gradient is the
// dense pass's business, TestAbsentEdgeGradient).
func TestGradBlocksSparse(t *testing.T) {
	const B, N, d = 2, 4, 4
	rng := rand.New(rand.NewPCG(5, 2))
	ps := NewParams(tensor.Float64)
	enc := NewEncoderBlock(ps, "enc", d, 2, rng)
	dec := NewDecoderBlock(ps, "dec", d, 2, rng)
	emb := NewEdgeEmbedding(ps, "edge", d, rng)
	for _, p := range ps.List() {
		if p.Value.Dims() == 1 {
			for i := range p.Value.Float64s() {
				p.Value.Float64s()[i] += 0.3 * (rng.Float64() - 0.5)
			}
		}
	}
	ins := []input{
		{"obs", []int{B * N, d}, randVals(rng, B*N*d, -1, 1), true},
		{"act", []int{B * N, d}, randVals(rng, B*N*d, -1, 1), true},
		{"A", []int{N, N}, topKGraph(rng, N, 2), false},
		{"g", []int{B, N}, randVals(rng, B*N, 0.2, 1), true},
		{"xq", []int{B * N, d}, randVals(rng, B*N*d, -1, 1), true},
	}
	var rk Ranks
	rk.SetOrder([]int32{2, 0, 3, 1, 1, 3, 0, 2}, N)
	sp := &Sparse{On: true}
	gradCheck(t, ps, false, ins, func(b *Binder, n []*G.Node) (*G.Node, error) {
		e, err := emb.Forward(b, n[2])
		if err != nil {
			return nil, err
		}
		cg := CommGraph{N: N, A: n[2], Edge: e, Gate: n[3], Rank: &rk, Sparse: sp}
		rep, err := enc.Forward(b, n[0], cg)
		if err != nil {
			return nil, err
		}
		y, err := dec.Forward(b, n[4], n[1], rep, cg)
		if err != nil {
			return nil, err
		}
		return G.Add(y, rep)
	})
	if sp.sd == nil || sp.sd.W != 3 {
		t.Fatalf("the sparse pass did not run (list %+v)", sp.sd)
	}
}

// TestInferSparseMatchesDense: the float32 inference path with sender lists
// (attention, edge embedding and relation projections of the listed pairs
// only) against the dense inference path on a top-k graph with gates and a
// decoding order: encoder and decoder outputs agree to within float32
// reassociation of the relation projections' matrix product (gathered rows
// instead of all N^2).
func TestInferSparseMatchesDense(t *testing.T) {
	const B, N, d, K = 4, 12, 8, 3
	rng := rand.New(rand.NewPCG(12, 3))
	ps := NewParams(tensor.Float32)
	enc := NewEncoderBlock(ps, "enc", d, 2, rng)
	dec := NewDecoderBlock(ps, "dec", d, 2, rng)
	emb := NewEdgeEmbedding(ps, "edge", d, rng)
	r32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	a := make([]float32, N*N)
	for i, v := range topKGraph(rng, N, K) {
		a[i] = float32(v)
	}
	gate := make([]float32, B*N)
	for i := range gate {
		gate[i] = float32(i % 5 % 2)
	}
	var rk Ranks
	order := make([]int32, N)
	for p, i := range rng.Perm(N) {
		order[p] = int32(i)
	}
	rk.SetOrder(order, N)
	obs, act, xq := r32(B*N*d), r32(B*N*d), r32(B*N*d)
	dense := InferGraph{N: N, A: a, Edge: emb.Infer(a), Gate: gate, Rank: rk.R}
	var sd Senders
	sd.Set(a, N)
	sparse := dense
	sparse.Senders = &sd
	sparse.Edge = emb.InferInto(nil, a, &sd)
	var rel Relations
	enc.Attn.RelationsInto(&rel, sparse.Edge, &sd)
	var sc InferScratch
	repD := enc.Infer(obs, B, dense, enc.Attn.Relations(dense.Edge))
	repS := enc.InferScratch(obs, B, sparse, rel, &sc)
	yD := dec.Infer(xq, act, repD, B, dense)
	yS := dec.Infer(xq, act, repS, B, sparse)
	diff := func(x, y []float32) float64 {
		var w float64
		for i := range x {
			w = math.Max(w, math.Abs(float64(x[i]-y[i])))
		}
		return w
	}
	dr, dy := diff(repD, repS), diff(yD, yS)
	t.Logf("max abs difference: encoder %g, decoder %g", dr, dy)
	if dr > 1e-6 || dy > 1e-6 {
		t.Errorf("sparse inference differs from dense: encoder %g, decoder %g (bound 1e-6)", dr, dy)
	}
}
