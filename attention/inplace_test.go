package attention

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// blockGraph builds encoder+decoder on float32 inputs; with backward it also
// adds the gradient of sum(out^2). It returns the output node and a Read
// snapshot of it taken in the forward pass.
func blockGraph(t *testing.T, ps *Params, enc *EncoderBlock, dec *DecoderBlock, emb *EdgeEmbedding,
	obs, act, a []float32, B, N, d int, backward bool) (G.VM, *Binder, *G.Value) {
	t.Helper()
	g := G.NewGraph()
	b := NewBinder(g)
	mk := func(name string, v []float32, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name),
			G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))))
	}
	on, an, gn := mk("obs", obs, B*N, d), mk("act", act, B*N, d), mk("A", a, N, N)
	e := G.Must(emb.Forward(b, gn))
	cg := CommGraph{N: N, A: gn, Edge: e}
	rep := G.Must(enc.Forward(b, on, cg))
	y := G.Must(dec.Forward(b, an, an, rep, cg))
	var snap G.Value
	G.Read(y, &snap)
	if backward {
		cost := G.Must(G.Sum(G.Must(G.Square(y))))
		if _, err := b.Backward(cost, gn); err != nil {
			t.Fatal(err)
		}
	}
	return G.NewTapeMachine(g), b, &snap
}

// TestRunDoesNotWriteParamsOrInputs guards against gorgonia's in-place
// register reuse touching the shared parameter tensors or the caller's input
// tensors, and documents how to read a forward value from a graph that also
// runs the backward pass: through G.Read (the node's own value may be
// recycled by the backward pass).
func TestRunDoesNotWriteParamsOrInputs(t *testing.T) {
	const B, N, d = 4, 3, 8
	rng := rand.New(rand.NewPCG(8, 1))
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
	obs, act := r32(B*N*d), r32(B*N*d)
	a := []float32{1, 0, 1, 1, 1, 0, 0.5, 1, 1}
	before := map[string][]float32{}
	for _, p := range ps.List() {
		before[p.Name] = append([]float32(nil), p.Value.Float32s()...)
	}
	in0 := [][]float32{append([]float32(nil), obs...), append([]float32(nil), act...), append([]float32(nil), a...)}

	mf, _, snapF := blockGraph(t, ps, enc, dec, emb, obs, act, a, B, N, d, false)
	defer mf.Close()
	if err := mf.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), (*snapF).Data().([]float32)...)

	mb, bb, snapB := blockGraph(t, ps, enc, dec, emb, obs, act, a, B, N, d, true)
	defer mb.Close()
	var first [][]float32
	for run := 0; run < 2; run++ {
		if err := mb.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := (*snapB).Data().([]float32)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("run %d: G.Read snapshot differs from the forward-only graph at %d", run, i)
			}
		}
		// Buffers are reused across runs: the second run's gradients must
		// equal the first's (no accumulation, no stale values).
		gs, err := Grads(bb, ps)
		if err != nil {
			t.Fatal(err)
		}
		for k, g := range gs {
			if run == 0 {
				first = append(first, append([]float32(nil), g.Float32s()...))
				continue
			}
			for i, v := range g.Float32s() {
				if v != first[k][i] {
					t.Fatalf("run 1: gradient of %s[%d] = %v, run 0 gave %v", ps.List()[k].Name, i, v, first[k][i])
				}
			}
		}
		mb.Reset()
	}
	for _, p := range ps.List() {
		for i, v := range p.Value.Float32s() {
			if v != before[p.Name][i] {
				t.Fatalf("parameter %s[%d] changed by a run", p.Name, i)
			}
		}
	}
	for k, cur := range [][]float32{obs, act, a} {
		for i := range cur {
			if cur[i] != in0[k][i] {
				t.Fatalf("input %d changed by a run at %d", k, i)
			}
		}
	}
}
