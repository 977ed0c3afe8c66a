package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGradAddLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	ps := NewParams(tensor.Float64)
	ln := NewLayerNorm(ps, "ln", 6)
	copy(ln.Gain.Value.Float64s(), randVals(rng, 6, 0.5, 1.5))
	copy(ln.Bias.Value.Float64s(), randVals(rng, 6, -0.5, 0.5))
	ins := []input{
		{"x", []int{5, 6}, randVals(rng, 30, -2, 2), true},
		{"y", []int{5, 6}, randVals(rng, 30, -2, 2), true},
	}
	gradCheck(t, ps, false, ins, func(b *Binder, n []*G.Node) (*G.Node, error) {
		// x also feeds a second consumer, so its gradient is a sum.
		s, err := addLN(b, ln, n[0], n[1])
		if err != nil {
			return nil, err
		}
		return G.HadamardProd(s, n[0])
	})
}

// TestAddLayerNormMatchesAddThenLayerNorm: the fused residual LN(x + y) gives
// the output and the gradients of x, y, gain and bias of a gorgonia Add
// followed by the LayerNorm op, bit for bit, over two runs of one machine
// (the kernel's buffers are reused on the second).
func TestAddLayerNormMatchesAddThenLayerNorm(t *testing.T) {
	const rows, d = 37, 64
	rng := rand.New(rand.NewPCG(21, 2))
	ps := NewParams(tensor.Float32)
	ln := NewLayerNorm(ps, "ln", d)
	r32 := func(n int, sd float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(sd * rng.NormFloat64())
		}
		return v
	}
	copy(ln.Gain.Value.Float32s(), r32(d, 1))
	copy(ln.Bias.Value.Float32s(), r32(d, 1))
	xv, yv, wv := r32(rows*d, 2), r32(rows*d, 1), r32(rows*d, 1)
	type result struct{ out, dx, dy, dg, db []float32 }
	run := func(fused bool) [2]result {
		g := G.NewGraph()
		b := NewBinder(g)
		mk := func(name string, v []float32) *G.Node {
			return G.NewMatrix(g, tensor.Float32, G.WithShape(rows, d), G.WithName(name),
				G.WithValue(tensor.New(tensor.WithShape(rows, d), tensor.WithBacking(append([]float32(nil), v...)))))
		}
		x, y, w := mk("x", xv), mk("y", yv), mk("w", wv)
		var out *G.Node
		if fused {
			out = G.Must(addLN(b, ln, x, y))
		} else {
			out = G.Must(ln.Forward(b, G.Must(G.Add(x, y))))
		}
		cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, w))))
		gn, gb := b.Node(ln.Gain), b.Node(ln.Bias)
		grads, err := G.Grad(cost, x, y, gn, gb)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]G.Value, 5)
		G.Read(out, &vals[0])
		for i, gr := range grads {
			G.Read(gr, &vals[i+1])
		}
		m := G.NewTapeMachine(g)
		defer m.Close()
		var res [2]result
		for r := range res {
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			cp := func(v G.Value) []float32 { return append([]float32(nil), v.Data().([]float32)...) }
			res[r] = result{cp(vals[0]), cp(vals[1]), cp(vals[2]), cp(vals[3]), cp(vals[4])}
			m.Reset()
		}
		return res
	}
	want, got := run(false), run(true)
	for r := range want {
		for _, c := range []struct {
			name string
			a, b []float32
		}{{"out", got[r].out, want[r].out}, {"dx", got[r].dx, want[r].dx}, {"dy", got[r].dy, want[r].dy},
			{"dgain", got[r].dg, want[r].dg}, {"dbias", got[r].db, want[r].db}} {
			if len(c.a) != len(c.b) {
				t.Fatalf("run %d: %s has %d values, want %d", r, c.name, len(c.a), len(c.b))
			}
			for i := range c.a {
				if math.Float32bits(c.a[i]) != math.Float32bits(c.b[i]) {
					t.Fatalf("run %d: %s[%d] = %v, Add then LayerNorm gives %v", r, c.name, i, c.a[i], c.b[i])
				}
			}
		}
	}
}
