package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// sharedLinearGraph builds cost = sum((x W + b)^2) for a fixed x of m rows.
func sharedLinearGraph(t *testing.T, lin *Linear, x []float64, m int) (*Binder, G.VM, *G.Node) {
	t.Helper()
	g := G.NewGraph()
	b := NewBinder(g)
	xn := G.NewMatrix(g, tensor.Float64, G.WithShape(m, lin.In), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(m, lin.In), tensor.WithBacking(x))))
	y, err := lin.Forward(b, xn)
	if err != nil {
		t.Fatal(err)
	}
	cost := G.Must(G.Sum(G.Must(G.Square(y))))
	if _, err := b.Backward(cost); err != nil {
		t.Fatal(err)
	}
	return b, G.NewTapeMachine(g), cost
}

// wantLinear returns cost, dW, db of sum((xW+b)^2) computed by hand.
func wantLinear(lin *Linear, x []float64, m int) (float64, []float64, []float64) {
	w, bias := lin.W.Value.Float64s(), lin.B.Value.Float64s()
	in, out := lin.In, lin.Out
	var cost float64
	dw := make([]float64, in*out)
	db := make([]float64, out)
	for r := 0; r < m; r++ {
		for o := 0; o < out; o++ {
			y := bias[o]
			for i := 0; i < in; i++ {
				y += x[r*in+i] * w[i*out+o]
			}
			cost += y * y
			db[o] += 2 * y
			for i := 0; i < in; i++ {
				dw[i*out+o] += 2 * y * x[r*in+i]
			}
		}
	}
	return cost, dw, db
}

// TestWeightSharingAcrossGraphs documents the contract of Params and Binder:
// one Param bound into two graphs of different batch shapes; an in-place
// update of Param.Value (as an optimiser does) is seen by both machines on
// their next run; gradients are read after RunAll and do not accumulate
// across runs when the machine is Reset between runs; running never writes
// into the parameter tensors.
func TestWeightSharingAcrossGraphs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ps := NewParams(tensor.Float64)
	lin := NewLinear(ps, "lin", 3, 2, Uniform(rng, 1))
	lin.B.Value.Float64s()[1] = 0.25
	x4 := make([]float64, 4*3)
	x2 := make([]float64, 2*3)
	for i := range x4 {
		x4[i] = rng.NormFloat64()
	}
	for i := range x2 {
		x2[i] = rng.NormFloat64()
	}
	b4, m4, c4 := sharedLinearGraph(t, lin, x4, 4)
	b2, m2, c2 := sharedLinearGraph(t, lin, x2, 2)
	defer m4.Close()
	defer m2.Close()

	check := func(stage string) {
		t.Helper()
		for _, c := range []struct {
			b    *Binder
			m    G.VM
			cost *G.Node
			x    []float64
			rows int
		}{{b4, m4, c4, x4, 4}, {b2, m2, c2, x2, 2}} {
			before := append([]float64(nil), lin.W.Value.Float64s()...)
			if err := c.m.RunAll(); err != nil {
				t.Fatal(err)
			}
			wc, wdw, wdb := wantLinear(lin, c.x, c.rows)
			if got := c.cost.Value().Data().(float64); math.Abs(got-wc) > 1e-12 {
				t.Errorf("%s rows=%d: cost %v, want %v", stage, c.rows, got, wc)
			}
			gs, err := Grads(c.b, ps)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range gs[0].Float64s() {
				if math.Abs(v-wdw[i]) > 1e-12 {
					t.Errorf("%s rows=%d: dW[%d] = %v, want %v", stage, c.rows, i, v, wdw[i])
				}
			}
			for i, v := range gs[1].Float64s() {
				if math.Abs(v-wdb[i]) > 1e-12 {
					t.Errorf("%s rows=%d: db[%d] = %v, want %v", stage, c.rows, i, v, wdb[i])
				}
			}
			for i, v := range lin.W.Value.Float64s() {
				if v != before[i] {
					t.Fatalf("%s: running the machine changed the parameter", stage)
				}
			}
			c.m.Reset()
		}
	}
	check("initial")
	check("second run (no accumulation)")
	// An optimiser step in place: every graph must see it.
	for i := range lin.W.Value.Float64s() {
		lin.W.Value.Float64s()[i] -= 0.1 * float64(i+1)
	}
	lin.B.Value.Float64s()[0] = -0.5
	check("after in-place update")
}

// TestForwardData: same output and weight gradients as Forward, no gradient
// node for x, and it refuses a computed x.
func TestForwardData(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ps := NewParams(tensor.Float64)
	lin := NewLinear(ps, "lin", 4, 3, Uniform(rng, 1))
	x := randVals(rng, 6*4, -1, 1)
	res := make([][]float64, 2)
	for k, data := range []bool{false, true} {
		g := G.NewGraph()
		b := NewBinder(g)
		xn := G.NewMatrix(g, tensor.Float64, G.WithShape(6, 4), G.WithName("x"),
			G.WithValue(tensor.New(tensor.WithShape(6, 4), tensor.WithBacking(x))))
		var y *G.Node
		var err error
		if data {
			y, err = lin.ForwardData(b, xn)
		} else {
			y, err = lin.Forward(b, xn)
		}
		if err != nil {
			t.Fatal(err)
		}
		cost := G.Must(G.Sum(G.Must(G.Square(y))))
		if _, err := b.Backward(cost); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		gs, err := Grads(b, ps)
		if err != nil {
			t.Fatal(err)
		}
		res[k] = append(append([]float64{cost.Value().Data().(float64)}, gs[0].Float64s()...), gs[1].Float64s()...)
		m.Close()
		if data {
			if _, err := lin.ForwardData(b, y); err == nil {
				t.Error("ForwardData accepted a computed node")
			}
		}
	}
	for i := range res[0] {
		if math.Abs(res[0][i]-res[1][i]) > 1e-12 {
			t.Fatalf("ForwardData differs at %d: %v vs %v", i, res[1][i], res[0][i])
		}
	}
}
