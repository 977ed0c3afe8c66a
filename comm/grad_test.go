package comm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/commgraph/commgraph/attention"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// adjHarness builds loss = sum(W ⊙ A) for a learned graph in float64 and
// returns a function computing (loss, dL/dalpha) with gorgonia.
type adjHarness struct {
	g    *Graph
	adj  *Adj
	vm   G.VM
	loss *G.Node
	grad *G.Node
	w    []float64
}

func newAdjHarness(t *testing.T, n int, s float64, mode Mode, w []float64) *adjHarness {
	t.Helper()
	ps := attention.NewParams(tensor.Float64)
	g, err := NewGraph(ps, "graph/alpha", GraphConfig{N: n, Sparsity: s, Tau: 0.7, Variant: Learned})
	if err != nil {
		t.Fatal(err)
	}
	eg := G.NewGraph()
	b := attention.NewBinder(eg)
	adj := g.Bind(b, mode)
	wt := tensor.New(tensor.WithShape(n, n), tensor.WithBacking(append([]float64(nil), w...)))
	wn := G.NewMatrix(eg, tensor.Float64, G.WithShape(n, n), G.WithName("W"), G.WithValue(wt))
	prod := G.Must(G.HadamardProd(adj.A, wn))
	loss := G.Must(G.Sum(prod))
	alphaNode := b.Node(g.Alpha)
	grads, err := G.Grad(loss, alphaNode)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(eg)
	t.Cleanup(func() { vm.Close() })
	return &adjHarness{g: g, adj: adj, vm: vm, loss: loss, grad: grads[0], w: w}
}

func (h *adjHarness) run(t *testing.T) (float64, []float64) {
	t.Helper()
	if err := h.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	defer h.vm.Reset()
	l := h.loss.Value().Data().(float64)
	gr := append([]float64(nil), h.grad.Value().Data().([]float64)...)
	return l, gr
}

func setAlpha(g *Graph, vals []float64) {
	copy(g.Alpha.Value.Data().([]float64), vals)
}

// softLoss is sum(W ⊙ softmax_row((alpha+noise)*scale)) in plain Go.
func softLoss(alpha, noise, w []float64, n int, scale float64) float64 {
	y := make([]float64, n*n)
	rowSoftmax(y, alpha, noise, n, scale)
	s := 0.0
	for i := range y {
		s += w[i] * y[i]
	}
	return s
}

func centralDiff(f func([]float64) float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	xx := append([]float64(nil), x...)
	for i := range x {
		xx[i] = x[i] + h
		fp := f(xx)
		xx[i] = x[i] - h
		fm := f(xx)
		xx[i] = x[i]
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %.10g, want %.10g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// TestGradGumbelTopK: with fixed noise, the straight-through gradient equals
// the central-difference gradient of the soft y = softmax((alpha+g)/tau), and
// the forward value is the k-hot of the row top-k of y.
func TestGradGumbelTopK(t *testing.T) {
	const n = 5
	rng := rand.New(rand.NewPCG(1, 2))
	w := randVec(rng, n*n)
	h := newAdjHarness(t, n, 0.4, ModeSample, w)
	alpha := randVec(rng, n*n)
	setAlpha(h.g, alpha)
	h.adj.Resample(rng)
	noise := h.adj.Noise()
	loss, grad := h.run(t)

	// forward: exactly k ones per row, at the top-k of y
	A := h.adj.Matrix()
	y := make([]float64, n*n)
	rowSoftmax(y, alpha, noise, n, 1/0.7)
	k := K(n, 0.4)
	want := 0.0
	for i := 0; i < n; i++ {
		ones := 0
		for j := 0; j < n; j++ {
			if A[i*n+j] == 1 {
				ones++
				want += w[i*n+j]
				// every selected y must be >= every unselected y
				for l := 0; l < n; l++ {
					if j != i && A[i*n+l] == 0 && y[i*n+l] > y[i*n+j] {
						t.Fatalf("row %d: unselected %d has y %g > selected %d's %g", i, l, y[i*n+l], j, y[i*n+j])
					}
				}
			} else if A[i*n+j] != 0 {
				t.Fatalf("A[%d][%d] = %g, not 0/1", i, j, A[i*n+j])
			}
		}
		if ones != k+1 || A[i*n+i] != 1 {
			t.Fatalf("row %d has %d ones (self %v), want self + k = %d", i, ones, A[i*n+i], k)
		}
	}
	if math.Abs(loss-want) > 1e-12 {
		t.Fatalf("loss %g, want %g", loss, want)
	}
	num := centralDiff(func(a []float64) float64 { return softLoss(a, noise, w, n, 1/0.7) }, alpha, 1e-5)
	assertClose(t, "dL/dalpha (Gumbel ST)", grad, num, 1e-6)
}

// TestGradExactTopK: the exact path's gradient is that of softmax_row(alpha).
func TestGradExactTopK(t *testing.T) {
	const n = 4
	rng := rand.New(rand.NewPCG(3, 4))
	w := randVec(rng, n*n)
	h := newAdjHarness(t, n, 0.5, ModeExact, w)
	alpha := randVec(rng, n*n)
	setAlpha(h.g, alpha)
	_, grad := h.run(t)
	num := centralDiff(func(a []float64) float64 { return softLoss(a, nil, w, n, 1) }, alpha, 1e-5)
	assertClose(t, "dL/dalpha (exact ST)", grad, num, 1e-6)
	// forward equals Graph.Exact
	assertClose(t, "exact forward", h.adj.Matrix(), h.g.Exact(), 0)
}

// TestGradWarmup: warm-up A = alpha, so dL/dalpha = W.
func TestGradWarmup(t *testing.T) {
	const n = 3
	rng := rand.New(rand.NewPCG(5, 6))
	w := randVec(rng, n*n)
	h := newAdjHarness(t, n, 0.4, ModeWarmup, w)
	alpha := randVec(rng, n*n)
	setAlpha(h.g, alpha)
	_, grad := h.run(t)
	wantF := append([]float64(nil), alpha...)
	for i := 0; i < n; i++ {
		wantF[i*n+i] = 1 // self always heard
	}
	assertClose(t, "warm-up forward", h.adj.Matrix(), wantF, 0)
	num := centralDiff(func(a []float64) float64 {
		s := 0.0
		for i := range a {
			s += a[i] * w[i]
		}
		return s
	}, alpha, 1e-5)
	for i := 0; i < n; i++ {
		num[i*n+i] = 0 // the diagonal is fixed at 1 (self always heard)
	}
	assertClose(t, "dL/dalpha (warm-up)", grad, num, 1e-8)
}

// TestFrozenNoGradient: a frozen graph gives exactly zero alpha gradient and
// the exact graph as forward value; switching the mode needs no recompiling.
func TestFrozenNoGradient(t *testing.T) {
	const n = 4
	rng := rand.New(rand.NewPCG(7, 8))
	w := randVec(rng, n*n)
	h := newAdjHarness(t, n, 0.5, ModeFrozen, w)
	setAlpha(h.g, randVec(rng, n*n))
	_, grad := h.run(t)
	for i, v := range grad {
		if v != 0 {
			t.Fatalf("frozen graph: dL/dalpha[%d] = %g, want 0", i, v)
		}
	}
	assertClose(t, "frozen forward", h.adj.Matrix(), h.g.Exact(), 0)
	h.adj.SetMode(ModeExact)
	_, grad = h.run(t)
	nz := 0
	for _, v := range grad {
		if v != 0 {
			nz++
		}
	}
	if nz == 0 {
		t.Fatal("after SetMode(ModeExact) the alpha gradient is still zero")
	}
}
