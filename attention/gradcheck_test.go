package attention

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// input is a non-parameter tensor fed to a test graph (and perturbed by the
// gradient check when check is set).
type input struct {
	name  string
	shape []int
	vals  []float64
	check bool
}

func randVals(rng *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return v
}

// gradCheck compares the analytic gradient of cost = sum(out * R) (R a fixed
// random tensor) against central differences, for every parameter of ps and
// every input with check set. float64 throughout; h = 1e-6 gives truncation
// and rounding errors around 1e-9 for these O(1) functions, so a mixed
// absolute/relative tolerance of 1e-6 is tight yet safe.
func gradCheck(t *testing.T, ps *Params, partialParams bool, ins []input, build func(b *Binder, nodes []*G.Node) (*G.Node, error)) {
	t.Helper()
	g := G.NewGraph()
	b := NewBinder(g)
	nodes := make([]*G.Node, len(ins))
	var extras []*G.Node
	var extraIdx []int
	for i, in := range ins {
		tt := tensor.New(tensor.WithShape(in.shape...), tensor.WithBacking(in.vals))
		nodes[i] = G.NewTensor(g, tensor.Float64, len(in.shape), G.WithShape(in.shape...), G.WithName(in.name), G.WithValue(tt))
		if in.check {
			extras = append(extras, nodes[i])
			extraIdx = append(extraIdx, i)
		}
	}
	out, err := build(b, nodes)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(99, 7))
	rv := randVals(rng, out.Shape().TotalSize(), -1, 1)
	r := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithName("R"),
		G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(rv))))
	cost := G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
	egs, err := b.Backward(cost, extras...)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func() float64 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return cost.Value().Data().(float64)
	}
	run()
	type target struct {
		name string
		vals []float64
		grad []float64
	}
	var targets []target
	bound, _ := b.Bound()
	for _, p := range bound {
		gd, err := b.Grad(p)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, target{p.Name, p.Value.Float64s(), append([]float64(nil), gd.Float64s()...)})
	}
	for k, i := range extraIdx {
		gv := egs[k].Value().(*tensor.Dense).Float64s()
		targets = append(targets, target{ins[i].name, ins[i].vals, append([]float64(nil), gv...)})
	}
	if len(bound) != len(ps.List()) && !partialParams {
		// Every parameter of the block must take part.
		t.Errorf("bound %d of %d parameters", len(bound), len(ps.List()))
	}
	const h = 1e-6
	bad := 0
	for _, tg := range targets {
		for i := range tg.vals {
			orig := tg.vals[i]
			tg.vals[i] = orig + h
			fp := run()
			tg.vals[i] = orig - h
			fm := run()
			tg.vals[i] = orig
			num := (fp - fm) / (2 * h)
			if d := math.Abs(num - tg.grad[i]); d > 1e-6*math.Max(1, math.Abs(num)) {
				if bad < 10 {
					t.Errorf("d/d %s[%d]: analytic %.10g, numeric %.10g", tg.name, i, tg.grad[i], num)
				}
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d gradient entries wrong", bad)
	}
}

func TestGradLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ps := NewParams(tensor.Float64)
	ln := NewLayerNorm(ps, "ln", 6)
	copy(ln.Gain.Value.Float64s(), randVals(rng, 6, 0.5, 1.5))
	copy(ln.Bias.Value.Float64s(), randVals(rng, 6, -0.5, 0.5))
	ins := []input{{"x", []int{5, 6}, randVals(rng, 30, -2, 2), true}}
	gradCheck(t, ps, false, ins, func(b *Binder, n []*G.Node) (*G.Node, error) { return ln.Forward(b, n[0]) })
}

func TestGradActivations(t *testing.T) {
	for _, act := range []Activation{GELU, ReLU} {
		t.Run(act.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, 1))
			x := randVals(rng, 24, -3, 3)
			for i, v := range x { // keep ReLU away from its kink
				if math.Abs(v) < 0.01 {
					x[i] = 0.5
				}
			}
			ps := NewParams(tensor.Float64)
			gradCheck(t, ps, false, []input{{"x", []int{4, 6}, x, true}}, func(b *Binder, n []*G.Node) (*G.Node, error) {
				return Activate(act, n[0])
			})
		})
	}
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	ps := NewParams(tensor.Float64)
	lin := NewLinear(ps, "lin", 5, 3, Uniform(rng, 1))
	copy(lin.B.Value.Float64s(), randVals(rng, 3, -1, 1))
	gradCheck(t, ps, false, []input{{"x", []int{7, 5}, randVals(rng, 35, -1, 1), true}}, func(b *Binder, n []*G.Node) (*G.Node, error) {
		return lin.Forward(b, n[0])
	})
}

// attnCase describes one graph-masked attention gradient check.
type attnCase struct {
	causal, gate, rel, cross bool
	heads                    int
}

func (c attnCase) String() string {
	return fmt.Sprintf("causal=%v,gate=%v,rel=%v,cross=%v,H=%d", c.causal, c.gate, c.rel, c.cross, c.heads)
}

func TestGradGraphAttention(t *testing.T) {
	cases := []attnCase{
		{rel: true, heads: 1},
		{rel: true, heads: 2},
		{rel: true, causal: true, heads: 2},
		{rel: true, gate: true, heads: 1},
		{rel: true, gate: true, causal: true, cross: true, heads: 2},
		{rel: false, heads: 2, cross: true},
	}
	for ci, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			const B, N, d = 2, 3, 4
			rng := rand.New(rand.NewPCG(4, uint64(ci)))
			ps := NewParams(tensor.Float64)
			mha := NewMultiHeadAttention(ps, "mha", d, c.heads, c.causal, rng)
			var emb *EdgeEmbedding
			if c.rel {
				emb = NewEdgeEmbedding(ps, "edge", d, rng)
			}
			for _, p := range ps.List() { // non-zero biases so their gradients are exercised
				if p.Value.Dims() == 1 {
					copy(p.Value.Float64s(), randVals(rng, p.Size(), -0.3, 0.3))
				}
			}
			// A strictly inside (0, 1): every edge is active, so the
			// function is smooth in A and the check covers dL/dA through
			// both the post-softmax product and the edge embedding.
			ins := []input{
				{"x", []int{B * N, d}, randVals(rng, B*N*d, -1, 1), true},
				{"A", []int{N, N}, randVals(rng, N*N, 0.1, 0.9), true},
			}
			if c.cross {
				ins = append(ins, input{"kv", []int{B * N, d}, randVals(rng, B*N*d, -1, 1), true})
			}
			if c.gate {
				ins = append(ins, input{"g", []int{B, N}, randVals(rng, B*N, 0.2, 1), true})
			}
			gradCheck(t, ps, !c.rel, ins, func(b *Binder, n []*G.Node) (*G.Node, error) {
				cg := CommGraph{N: N, A: n[1]}
				k := 2
				kv := n[0]
				if c.cross {
					kv = n[k]
					k++
				}
				if c.gate {
					cg.Gate = n[k]
				}
				if c.rel {
					e, err := emb.Forward(b, cg.A)
					if err != nil {
						return nil, err
					}
					cg.Edge = e
				}
				return mha.Forward(b, n[0], kv, cg)
			})
		})
	}
}

func TestGradBlocks(t *testing.T) {
	const B, N, d = 2, 3, 4
	rng := rand.New(rand.NewPCG(5, 1))
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
		{"A", []int{N, N}, randVals(rng, N*N, 0.1, 0.9), true},
		{"g", []int{B, N}, randVals(rng, B*N, 0.2, 1), true},
		{"xq", []int{B * N, d}, randVals(rng, B*N*d, -1, 1), true},
	}
	// A different decoding order per sample.
	var rk Ranks
	rk.SetOrder([]int32{2, 0, 1, 1, 2, 0}, N)
	gradCheck(t, ps, false, ins, func(b *Binder, n []*G.Node) (*G.Node, error) {
		e, err := emb.Forward(b, n[2])
		if err != nil {
			return nil, err
		}
		cg := CommGraph{N: N, A: n[2], Edge: e, Gate: n[3], Rank: &rk}
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
}

// TestFastGELUFloat32 bounds the float32 GELU (approximate erf and exp)
// against the exact float64 one, value and derivative.
func TestFastGELUFloat32(t *testing.T) {
	var worstV, worstD float64
	for i := -4000; i <= 4000; i++ {
		x := float64(i) / 500 // [-8, 8]
		c64, p64 := geluCDF(x)
		c32, p32 := geluCDF(float32(x))
		wantV, gotV := x*c64, float64(float32(x))*c32
		wantD, gotD := c64+x*p64, c32+float64(float32(x))*p32
		worstV = math.Max(worstV, math.Abs(gotV-wantV))
		worstD = math.Max(worstD, math.Abs(gotD-wantD))
	}
	if worstV > 2e-6 || worstD > 2e-6 {
		t.Errorf("float32 GELU max error: value %g, derivative %g", worstV, worstD)
	}
	for _, x := range []float64{-745, -1000, 0, -1e-9} {
		if got, want := fastExp(x), math.Exp(x); math.Abs(got-want) > 1e-8*want+1e-300 {
			t.Errorf("fastExp(%v) = %v, want %v", x, got, want)
		}
	}
}

// TestGELU32MatchesScalar: the vectorised float32 GELU agrees with the exact
// float64 GELU and derivative, on lengths that are not a multiple of the
// chunk size, and the activation kernels use it consistently.
func TestGELU32MatchesScalar(t *testing.T) {
	n := 1000
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(-9 + 18*float64(i)/float64(n-1))
	}
	y, dy := make([]float32, n), make([]float32, n)
	gelu32(y, dy, x)
	var worstV, worstD float64
	for i, v := range x {
		c, p := geluCDF(float64(v))
		worstV = math.Max(worstV, math.Abs(float64(y[i])-float64(v)*c))
		worstD = math.Max(worstD, math.Abs(float64(dy[i])-(c+float64(v)*p)))
	}
	if worstV > 2e-6 || worstD > 2e-6 {
		t.Errorf("gelu32 max error: value %g, derivative %g", worstV, worstD)
	}
	y2 := make([]float32, n)
	activate(GELU, y2, x)
	gy := make([]float32, n)
	for i := range gy {
		gy[i] = 1
	}
	dx := make([]float32, n)
	activateBackward(GELU, dx, x, gy)
	for i := range x {
		if y2[i] != y[i] || dx[i] != dy[i] {
			t.Fatalf("kernel paths disagree at %d", i)
		}
	}
}

// TestLayerNorm32MatchesFloat64: the vectorised float32 layer norm, forward
// and backward, agrees with the float64 kernel to float32 precision (the
// float64 kernel is the one gradient-checked above).
func TestLayerNorm32MatchesFloat64(t *testing.T) {
	const rows, d = 7, 261
	rng := rand.New(rand.NewPCG(12, 3))
	x64, g64, b64, gy64 := randVals(rng, rows*d, -3, 5), randVals(rng, d, 0.5, 1.5), randVals(rng, d, -1, 1), randVals(rng, rows*d, -1, 1)
	to32 := func(v []float64) []float32 {
		o := make([]float32, len(v))
		for i, x := range v {
			o[i] = float32(x)
		}
		return o
	}
	x32, g32, b32, gy32 := to32(x64), to32(g64), to32(b64), to32(gy64)
	y64, y32 := make([]float64, rows*d), make([]float32, rows*d)
	layerNorm(y64, x64, g64, b64, d, LayerNormEps, nil, nil)
	layerNorm(y32, x32, g32, b32, d, LayerNormEps, nil, nil)
	dx64, dg64, db64 := make([]float64, rows*d), make([]float64, d), make([]float64, d)
	dx32, dg32, db32 := make([]float32, rows*d), make([]float32, d), make([]float32, d)
	layerNormBackward(dx64, dg64, db64, x64, g64, gy64, d, LayerNormEps, nil, nil)
	layerNormBackward(dx32, dg32, db32, x32, g32, gy32, d, LayerNormEps, nil, nil)
	for _, c := range []struct {
		name string
		a    []float32
		b    []float64
	}{{"y", y32, y64}, {"dx", dx32, dx64}, {"dgain", dg32, dg64}, {"dbias", db32, db64}} {
		for i := range c.b {
			if math.Abs(float64(c.a[i])-c.b[i]) > 2e-5*math.Max(1, math.Abs(c.b[i])) {
				t.Fatalf("%s[%d] = %v, float64 gives %v", c.name, i, c.a[i], c.b[i])
			}
		}
	}
}
