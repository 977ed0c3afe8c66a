package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestInferMatchesGorgonia: the float32 inference path (encoder block,
// incremental decoder) agrees with the gorgonia forward pass on the same
// parameters, with relation terms, a sparse graph and a per-sample gate.
func TestInferMatchesGorgonia(t *testing.T) {
	for _, heads := range []int{1, 2} {
		const B, N, d = 5, 4, 8
		rng := rand.New(rand.NewPCG(9, uint64(heads)))
		ps := NewParams(tensor.Float32)
		enc := NewEncoderBlock(ps, "enc", d, heads, rng)
		dec := NewDecoderBlock(ps, "dec", d, heads, rng)
		emb := NewEdgeEmbedding(ps, "edge", d, rng)
		for _, p := range ps.List() {
			if p.Value.Dims() == 1 {
				for i := range p.Value.Float32s() {
					p.Value.Float32s()[i] += float32(0.2 * rng.NormFloat64())
				}
			}
		}
		r32 := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		obs, act, xq := r32(B*N*d), r32(B*N*d), r32(B*N*d)
		order := []int32{2, 0, 3, 1} // decoding order shared by the samples
		var rk Ranks
		rk.SetOrder(order, N)
		a := []float32{1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1}
		gate := make([]float32, B*N)
		for i := range gate {
			gate[i] = float32(i % 3 % 2) // mixes open and closed gates
		}

		g := G.NewGraph()
		b := NewBinder(g)
		mk := func(name string, v []float32, shape ...int) *G.Node {
			return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name),
				G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
		}
		on, an, gn, gt := mk("obs", obs, B*N, d), mk("act", act, B*N, d), mk("A", a, N, N), mk("g", gate, B, N)
		xn := mk("xq", xq, B*N, d)
		e := G.Must(emb.Forward(b, gn))
		cg := CommGraph{N: N, A: gn, Edge: e, Gate: gt, Rank: &rk}
		rep := G.Must(enc.Forward(b, on, cg))
		y := G.Must(dec.Forward(b, xn, an, rep, cg))
		var repV G.Value
		G.Read(rep, &repV) // rep's own value is recycled by later ops
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		wantRep := repV.Data().([]float32)
		wantY := y.Value().Data().([]float32)

		ig := InferGraph{N: N, A: a, Edge: emb.Infer(a), Gate: gate, Rank: rk.R}
		gotRep := enc.Infer(obs, B, ig, enc.Attn.Relations(ig.Edge))
		gotY := dec.Infer(xq, act, gotRep, B, ig)
		cmp := func(what string, got, want []float32) {
			t.Helper()
			var worst float64
			for i := range want {
				worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
			}
			if worst > 1e-5 {
				t.Errorf("H=%d %s: max abs difference %g > 1e-5", heads, what, worst)
			}
		}
		cmp("encoder", gotRep, wantRep)
		cmp("decoder", gotY, wantY)
		m.Close()
	}
}

// TestDecoderStepIsCausal: in a decoding order, agent i's output depends on
// the chosen actions of the agents decoded before it that its graph row
// admits, and on nothing else: not on its own action (not chosen yet), not
// on later agents' actions, not on a sender outside its row. An edge
// delivers its own sender's action (MAT's token shift delivered the
// previous agent's).
func TestDecoderStepIsCausal(t *testing.T) {
	const B, N, d = 3, 4, 8
	rng := rand.New(rand.NewPCG(10, 1))
	ps := NewParams(tensor.Float32)
	dec := NewDecoderBlock(ps, "dec", d, 2, rng)
	r32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	enc, xq, act := r32(B*N*d), r32(B*N*d), r32(B*N*d)
	// Order 3, 1, 0, 2. Row 0 hears 3 only, row 2 hears 1 only.
	order := []int32{3, 1, 0, 2}
	var rk Ranks
	rk.SetOrder(order, N)
	a := []float32{
		0, 0, 0, 1,
		1, 0, 1, 1,
		0, 1, 0, 0,
		1, 1, 1, 0,
	}
	g := InferGraph{N: N, A: a, Rank: rk.R}
	base := dec.Infer(xq, act, enc, B, g)
	// changed reports which agents' outputs change when agent j's action changes.
	changed := func(j int) []bool {
		act2 := append([]float32(nil), act...)
		for b := 0; b < B; b++ {
			for c := 0; c < d; c++ {
				act2[(b*N+j)*d+c] += 1
			}
		}
		y := dec.Infer(xq, act2, enc, B, g)
		out := make([]bool, N)
		for b := 0; b < B; b++ {
			for i := 0; i < N; i++ {
				for c := 0; c < d; c++ {
					if y[(b*N+i)*d+c] != base[(b*N+i)*d+c] {
						out[i] = true
					}
				}
			}
		}
		return out
	}
	// want[j][i]: agent i hears agent j's action (directly, or through a
	// sender that heard it, via the cross-attention over decoder states).
	want := map[int][]bool{
		3: {true, true, true, false}, // 0 <- 3 and 1 <- 3 directly; 2 <- 1 <- 3
		1: {false, false, true, false},
		0: {false, false, false, false}, // 1 and 3 hear 0 but decode before it; 2 does not hear 0
		2: {false, false, false, false}, // last in the order
	}
	for j, w := range want {
		got := changed(j)
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("action of agent %d: agent %d output changed = %v, want %v", j, i, got[i], w[i])
			}
		}
	}
}

// TestDecoderStateReuse: a state reused through Start gives the same outputs
// as a fresh one (no stale keys or values leak between passes), and so does
// StartShared with the relations of RelationsInto (fresh or reused state).
func TestDecoderStateReuse(t *testing.T) {
	const B, N, d = 2, 3, 8
	rng := rand.New(rand.NewPCG(13, 1))
	ps := NewParams(tensor.Float32)
	dec := NewDecoderBlock(ps, "dec", d, 2, rng)
	emb := NewEdgeEmbedding(ps, "edge", d, rng)
	r32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	a := []float32{1, 1, 0, 0, 1, 1, 1, 0, 1}
	g := InferGraph{N: N, A: a, Edge: emb.Infer(a), Gate: []float32{1, 0, 1, 1, 1, 0}}
	var self, cross Relations
	dec.RelationsInto(&self, &cross, g.Edge, nil)
	shared := false
	run := func(st *DecoderState, enc, x []float32) (*DecoderState, []float32) {
		if shared {
			st = dec.StartShared(st, enc, B, g, &self, &cross)
		} else {
			st = dec.Start(st, enc, B, g)
		}
		out := make([]float32, B*N*d)
		xi, oi := make([]float32, B*d), make([]float32, B*d)
		for i := 0; i < N; i++ {
			for b := 0; b < B; b++ {
				copy(xi[b*d:(b+1)*d], x[(b*N+i)*d:])
			}
			st.Step(i, xi, oi)
			for b := 0; b < B; b++ {
				copy(out[(b*N+i)*d:(b*N+i+1)*d], oi[b*d:])
				copy(xi[b*d:(b+1)*d], enc[(b*N+i)*d:]) // the action rows: enc for the test
			}
			st.Commit(i, xi)
		}
		return st, out
	}
	enc1, x1, enc2, x2 := r32(B*N*d), r32(B*N*d), r32(B*N*d), r32(B*N*d)
	st, _ := run(nil, enc1, x1)
	_, reused := run(st, enc2, x2)
	_, fresh := run(nil, enc2, x2)
	for i := range fresh {
		if reused[i] != fresh[i] {
			t.Fatalf("reused state differs at %d: %v vs %v", i, reused[i], fresh[i])
		}
	}
	want := dec.Infer(x2, enc2, enc2, B, g)
	for i := range want {
		if want[i] != fresh[i] {
			t.Fatalf("Step pass differs from Infer at %d", i)
		}
	}
	shared = true
	_, sharedFresh := run(nil, enc2, x2)
	_, sharedReused := run(st, enc2, x2)
	for i := range fresh {
		if math.Float32bits(sharedFresh[i]) != math.Float32bits(fresh[i]) || math.Float32bits(sharedReused[i]) != math.Float32bits(fresh[i]) {
			t.Fatalf("StartShared differs from Start at %d: %v, %v vs %v", i, sharedFresh[i], sharedReused[i], fresh[i])
		}
	}
}
