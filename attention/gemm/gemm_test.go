package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// backends returns every implementation this build can test.
func backends() map[string]BLAS {
	b, name := Default()
	return map[string]BLAS{"vek": Vek{}, "native": Native{}, name: b}
}

type gemmCase struct {
	tA, tB         blas.Transpose
	m, n, k        int
	padA, padB, pC int // extra leading-dimension padding (sub-matrix strides)
	alpha, beta    float64
}

func gemmCases() []gemmCase {
	var cs []gemmCase
	tr := []blas.Transpose{blas.NoTrans, blas.Trans}
	// Sizes cover single elements, odd shapes, full and partial 6x16
	// micro-tiles, inner dimensions beyond one panel (256 for Native, 520
	// for Vek) and more rows than one packed block (96).
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 9, 13}, {33, 64, 65}, {5, 3, 1100}, {130, 1, 40}, {1, 70, 9},
		{12, 32, 300}, {101, 50, 531}}
	ab := [][2]float64{{1, 0}, {0.5, 0}, {1, 1}, {-1.5, 0.25}, {0, 2}}
	for _, ta := range tr {
		for _, tb := range tr {
			for _, s := range sizes {
				for _, pad := range []int{0, 3} {
					for _, x := range ab {
						cs = append(cs, gemmCase{ta, tb, s[0], s[1], s[2], pad, 2 * pad, pad, x[0], x[1]})
					}
				}
			}
		}
	}
	return cs
}

// dims returns the stored shape of A (or B) given its transpose flag.
func stored(t blas.Transpose, r, c int) (int, int) {
	if t == blas.NoTrans {
		return r, c
	}
	return c, r
}

// TestSgemmMatchesGonum checks every backend against gonum's reference on all
// transpose combinations, odd sizes, alpha/beta, padded strides and inner
// dimensions longer than the panel size; it also checks that the padding of
// C outside the m x n block is untouched.
func TestSgemmMatchesGonum(t *testing.T) {
	for name, impl := range backends() {
		for ci, c := range gemmCases() {
			rng := rand.New(rand.NewPCG(uint64(ci), 1))
			ra, ca := stored(c.tA, c.m, c.k)
			rb, cb := stored(c.tB, c.k, c.n)
			lda, ldb, ldc := ca+c.padA, cb+c.padB, c.n+c.pC
			a := make([]float32, ra*lda)
			b := make([]float32, rb*ldb)
			cc := make([]float32, c.m*ldc)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			for i := range cc {
				cc[i] = float32(rng.NormFloat64())
			}
			want := append([]float32(nil), cc...)
			gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, float32(c.alpha), a, lda, b, ldb, float32(c.beta), want, ldc)
			got := append([]float32(nil), cc...)
			impl.Sgemm(c.tA, c.tB, c.m, c.n, c.k, float32(c.alpha), a, lda, b, ldb, float32(c.beta), got, ldc)
			tol := 1e-5 * math.Sqrt(float64(c.k)) * 4
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > tol*math.Max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("%s case %+v: C[%d] = %v, want %v", name, c, i, got[i], want[i])
				}
			}

			// float64 path.
			a64, b64, c64 := to64(a), to64(b), to64(cc)
			w64 := append([]float64(nil), c64...)
			gonum.Implementation{}.Dgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a64, lda, b64, ldb, c.beta, w64, ldc)
			impl.Dgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a64, lda, b64, ldb, c.beta, c64, ldc)
			for i := range w64 {
				if d := math.Abs(c64[i] - w64[i]); d > 1e-12*math.Max(1, math.Abs(w64[i]))*float64(c.k) {
					t.Fatalf("%s case %+v: Dgemm C[%d] = %v, want %v", name, c, i, c64[i], w64[i])
				}
			}
		}
	}
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// TestBetaZeroIgnoresNaN: with beta = 0, BLAS must overwrite C even if it
// holds NaN.
func TestBetaZeroIgnoresNaN(t *testing.T) {
	for name, impl := range backends() {
		a := []float32{1, 2, 3, 4}
		c := []float32{float32(math.NaN()), float32(math.NaN()), float32(math.NaN()), float32(math.NaN())}
		impl.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 2, a, 2, a, 2, 0, c, 2)
		want := []float32{14, 20, 30, 44}
		for i := range c {
			if c[i] != want[i] {
				t.Errorf("%s: C = %v, want %v", name, c, want)
				break
			}
		}
	}
}

// TestGorgoniaUsesBackend proves that after Use() gorgonia's matrix product,
// forward and backward, runs through this package (call counter) and gives
// gonum's numbers.
func TestGorgoniaUsesBackend(t *testing.T) {
	defer G.Use(gonum.Implementation{})
	run := func(dt tensor.Dtype) (out, gx, gw []float64) {
		g := G.NewGraph()
		rng := rand.New(rand.NewPCG(3, 3))
		xs := make([]float64, 7*5)
		ws := make([]float64, 5*3)
		for i := range xs {
			xs[i] = rng.NormFloat64()
		}
		for i := range ws {
			ws[i] = rng.NormFloat64()
		}
		mk := func(name string, r, c int, v []float64) *G.Node {
			var tt *tensor.Dense
			if dt == tensor.Float32 {
				tt = tensor.New(tensor.WithShape(r, c), tensor.WithBacking(to32(v)))
			} else {
				tt = tensor.New(tensor.WithShape(r, c), tensor.WithBacking(v))
			}
			return G.NewMatrix(g, dt, G.WithShape(r, c), G.WithName(name), G.WithValue(tt))
		}
		x, w := mk("x", 7, 5, xs), mk("w", 5, 3, ws)
		y := G.Must(G.Mul(x, w))
		cost := G.Must(G.Sum(G.Must(G.Square(y))))
		gs, err := G.Grad(cost, x, w)
		if err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return vals(y), vals(gs[0]), vals(gs[1])
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		G.Use(gonum.Implementation{})
		wo, wx, ww := run(dt)
		name := Use()
		s0, d0 := Calls()
		o, gx, gw := run(dt)
		s1, d1 := Calls()
		calls := s1 - s0
		if dt == tensor.Float64 {
			calls = d1 - d0
		}
		// One product forward and two in the backward pass.
		if calls < 3 {
			t.Errorf("%v: %s served %d gemm calls, want >= 3", dt, name, calls)
		}
		tol := 1e-4
		if dt == tensor.Float64 {
			tol = 1e-12
		}
		for k, pair := range [][2][]float64{{wo, o}, {wx, gx}, {ww, gw}} {
			for i := range pair[0] {
				if math.Abs(pair[0][i]-pair[1][i]) > tol*math.Max(1, math.Abs(pair[0][i])) {
					t.Fatalf("%v: result %d differs at %d: %v vs %v", dt, k, i, pair[1][i], pair[0][i])
				}
			}
		}
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func vals(n *G.Node) []float64 {
	switch d := n.Value().Data().(type) {
	case []float32:
		return to64(d)
	case []float64:
		return append([]float64(nil), d...)
	}
	panic(fmt.Sprintf("unexpected %T", n.Value().Data()))
}

// BenchmarkSgemm measures the predator-prey training shapes (M = 12,000
// rows of 4,000 samples x 3 agents: forward x W, and the two backward
// products, of the observation layer and of the 64 x 64 layers) and two
// acting shapes. GFLOP/cpu-s divides by process CPU time
// (steadier than wall time on the shared machine; run with GOMAXPROCS=1).
func BenchmarkSgemm(b *testing.B) {
	shapes := []struct {
		name    string
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{"12000x261x64/NN", blas.NoTrans, blas.NoTrans, 12000, 64, 261},
		{"12000x64x64/NN", blas.NoTrans, blas.NoTrans, 12000, 64, 64},
		{"12000x64x64/NT", blas.NoTrans, blas.Trans, 12000, 64, 64},
		{"12000x64x261/NT", blas.NoTrans, blas.Trans, 12000, 261, 64},
		{"261x64x12000/TN", blas.Trans, blas.NoTrans, 261, 64, 12000},
		{"64x64x12000/TN", blas.Trans, blas.NoTrans, 64, 64, 12000},
		// Acting: one decoder step over 32 environments, and an encoder
		// layer over 32 environments x 10 agents.
		{"32x64x64/NN", blas.NoTrans, blas.NoTrans, 32, 64, 64},
		{"320x64x64/NN", blas.NoTrans, blas.NoTrans, 320, 64, 64},
	}
	impls := backends()
	impls["gonum"] = gonum.Implementation{}
	for _, s := range shapes {
		ra, ca := stored(s.tA, s.m, s.k)
		rb, cb := stored(s.tB, s.k, s.n)
		a := make([]float32, ra*ca)
		bb := make([]float32, rb*cb)
		c := make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range bb {
			bb[i] = float32(i%5) * 0.1
		}
		for name, impl := range impls {
			b.Run(s.name+"/"+name, func(b *testing.B) {
				c0 := cpuTime()
				for b.Loop() {
					impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
				}
				flop := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				// CPU-time rate: steadier than wall time on a shared machine.
				b.ReportMetric(flop/(cpuTime()-c0).Seconds()/1e9, "GFLOP/cpu-s")
			})
		}
	}
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestNativeParallelIsBitIdentical: splitting the rows across goroutines
// (GOMAXPROCS > 1) gives exactly the single-goroutine result, so training
// stays deterministic whatever the core count.
func TestNativeParallelIsBitIdentical(t *testing.T) {
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			const m, n, k = 1003, 70, 300
			rng := rand.New(rand.NewPCG(9, 9))
			ra, ca := stored(tA, m, k)
			rb, cb := stored(tB, k, n)
			a, b := make([]float32, ra*ca), make([]float32, rb*cb)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			run := func(procs int) []float32 {
				old := runtime.GOMAXPROCS(procs)
				defer runtime.GOMAXPROCS(old)
				c := make([]float32, m*n)
				Native{}.Sgemm(tA, tB, m, n, k, 1, a, ca, b, cb, 0, c, n)
				return c
			}
			one, four := run(1), run(4)
			for i := range one {
				if one[i] != four[i] {
					t.Fatalf("tA=%c tB=%c: C[%d] = %v with 4 goroutines, %v with 1", tA, tB, i, four[i], one[i])
				}
			}
		}
	}
}

// TestNativeSplitBitIdentical: SgemmN on 2, 3 and 7 goroutines gives the
// bits of one goroutine over every test shape (transposes, padded strides,
// alpha and beta, edge tiles), split by rows or, for C with few rows, by
// columns (the size threshold lowered so that small products split too),
// and on a weight-gradient shape x^T dy (32 x 32, inner dimension 10240).
func TestNativeSplitBitIdentical(t *testing.T) {
	if _, ok := Current().(Native); !ok {
		old := Current()
		current.Store(&holder{Native{}})
		defer current.Store(&holder{old})
	}
	oldFlops := parallelFlops
	parallelFlops = 0
	defer func() { parallelFlops = oldFlops }()
	cases := gemmCases()
	cases = append(cases, gemmCase{blas.Trans, blas.NoTrans, 32, 32, 10240, 0, 0, 0, 1, 0}, gemmCase{blas.Trans, blas.Trans, 40, 70, 3000, 1, 2, 3, 1, 1})
	splits := 0
	for ci, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(ci), 7))
		ra, ca := stored(c.tA, c.m, c.k)
		rb, cb := stored(c.tB, c.k, c.n)
		lda, ldb, ldc := ca+c.padA, cb+c.padB, c.n+c.pC
		a, b, c0 := make([]float32, ra*lda), make([]float32, rb*ldb), make([]float32, c.m*ldc)
		for _, x := range [][]float32{a, b, c0} {
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
		}
		run := func(workers int) []float32 {
			cc := append([]float32(nil), c0...)
			SgemmN(workers, c.tA, c.tB, c.m, c.n, c.k, float32(c.alpha), a, lda, b, ldb, float32(c.beta), cc, ldc)
			return cc
		}
		one := run(1)
		for _, w := range []int{2, 3, 7} {
			if min(w, c.m/(4*mr)) >= 2 || min(w, c.n/nr) >= 2 {
				splits++
			}
			got := run(w)
			for i := range one {
				if math.Float32bits(got[i]) != math.Float32bits(one[i]) {
					t.Fatalf("case %+v, %d workers: C[%d] = %v, %v with 1", c, w, i, got[i], one[i])
				}
			}
		}
	}
	if splits < 50 {
		t.Fatalf("only %d split products", splits)
	}
}

// BenchmarkSgemmSplit: Native on 1 and 2 goroutines (SgemmN) on the linear
// layers' products of the N = 40 update (10240 rows of 32): forward x W,
// dx = dy W^T and the weight gradient x^T dy (few rows: column split).
func BenchmarkSgemmSplit(b *testing.B) {
	if _, ok := Current().(Native); !ok {
		old := Current()
		current.Store(&holder{Native{}})
		defer current.Store(&holder{old})
	}
	shapes := []struct {
		name    string
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{"10240x32x32/NN", blas.NoTrans, blas.NoTrans, 10240, 32, 32},
		{"10240x32x32/NT", blas.NoTrans, blas.Trans, 10240, 32, 32},
		{"32x32x10240/TN", blas.Trans, blas.NoTrans, 32, 32, 10240},
	}
	for _, s := range shapes {
		ra, ca := stored(s.tA, s.m, s.k)
		rb, cb := stored(s.tB, s.k, s.n)
		a, bb, c := make([]float32, ra*ca), make([]float32, rb*cb), make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(i%7) * 0.1
		}
		for i := range bb {
			bb[i] = float32(i%5) * 0.1
		}
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", s.name, w), func(b *testing.B) {
				b.ReportAllocs()
				c0 := cpuTime()
				for b.Loop() {
					SgemmN(w, s.tA, s.tB, s.m, s.n, s.k, 1, a, ca, bb, cb, 0, c, s.n)
				}
				b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
