package attention

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// bitsEqual reports the first element where got and want differ in bits.
func bitsEqual[T float](got, want []T) (int, bool) {
	if len(got) != len(want) {
		return -1, false
	}
	for i := range want {
		var g, w uint64
		switch x := any(got[i]).(type) {
		case float32:
			g, w = uint64(math.Float32bits(x)), uint64(math.Float32bits(any(want[i]).(float32)))
		case float64:
			g, w = math.Float64bits(x), math.Float64bits(any(want[i]).(float64))
		}
		if g != w {
			return i, false
		}
	}
	return 0, true
}

// TestParallelCoreBitIdentical: the attention core split over 1, 2, 3 and
// 7 workers (B = 5 and B = 2 samples: not divisible, and fewer samples
// than workers) gives the serial pass's output and every gradient (dq, dk,
// dv, da, dra, drb, dg) bit for bit, in float32 and float64, with and
// without relation terms, gate, causal order (per-sample ranks), no-self,
// sender lists, cached probabilities and the mask gradient, on a
// fractional mask with zeros (masked pairs get mask gradient too).
func TestParallelCoreBitIdentical(t *testing.T) {
	old, oldBlock := parMinWork, reduceBlock
	parMinWork = 0  // split even these small passes
	reduceBlock = 2 // and reduce B = 5 samples in blocks of 2, 2, 1
	defer func() { parMinWork, reduceBlock = old, oldBlock }()
	t.Run("float32", func(t *testing.T) { parallelCoreCase[float32](t) })
	t.Run("float64", func(t *testing.T) { parallelCoreCase[float64](t) })
}

func parallelCoreCase[T float](t *testing.T) {
	const N, H, Dh = 9, 2, 4
	D := H * Dh
	rng := rand.New(rand.NewPCG(17, 3))
	rv := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(rng.NormFloat64())
		}
		return v
	}
	// A fractional graph with zeros (dense pass) and a 0/1 top-k graph
	// (sender lists).
	frac := make([]T, N*N)
	for i := range frac {
		if rng.IntN(4) > 0 {
			frac[i] = T(rng.Float64())
		}
	}
	topk := make([]T, N*N)
	for i, v := range topKGraph(rng, N, 3) {
		topk[i] = T(v)
	}
	for _, B := range []int{5, 2} {
		q, k, v, gout := rv(B*N*D), rv(B*N*D), rv(B*N*D), rv(B*N*D)
		ra, rb := rv(N*N*D), rv(N*N*D)
		g := make([]T, B*N)
		for i := range g {
			g[i] = T(0.2 + 0.8*rng.Float64())
		}
		g[3] = 0 // a closed gate
		rank := make([]int32, B*N)
		for b := 0; b < B; b++ {
			for p, i := range rng.Perm(N) {
				rank[b*N+i] = int32(p)
			}
		}
		for mask := 0; mask < 64; mask++ {
			rel, gate, sparse := mask&1 != 0, mask&2 != 0, mask&4 != 0
			causal, wantDA, cache := mask&8 != 0, mask&16 != 0, mask&32 != 0
			noSelf := causal && gate
			s := attnShape{B: B, N: N, H: H, Dh: Dh, Causal: causal, NoSelf: noSelf}
			if causal {
				s.Rank = rank
			}
			a := frac
			var sd *Senders
			if sparse {
				a = topk
				sd = new(Senders)
				setSenders(sd, a, N)
			} else {
				sd = denseSenders(N)
			}
			var rA, rB, gg []T
			if rel {
				rA, rB = ra, rb
			}
			if gate {
				gg = g
			}
			run := func(workers int) ([]T, attnGrads[T]) {
				ker := &attnKernel{workers: workers}
				var probs []float64
				if cache {
					probs = make([]float64, B*N*H*sd.W)
				}
				out := make([]T, B*N*D)
				var tk attnTask[T]
				forwardPar(ker, &tk, s, sd, out, q, k, v, rA, rB, a, gg, probs)
				gr := attnGrads[T]{dq: rv(B * N * D), dk: rv(B * N * D), dv: rv(B * N * D)} // garbage: overwritten
				if wantDA {
					gr.da = make([]T, N*N)
				}
				if rel {
					gr.dra, gr.drb = make([]T, N*N*D), make([]T, N*N*D)
				}
				if gate {
					gr.dg = make([]T, B*N)
				}
				// Twice: the second run reuses the task's records.
				for rep := 0; rep < 2; rep++ {
					for _, x := range [][]T{gr.da, gr.dra, gr.drb, gr.dg} {
						clear(x)
					}
					backwardPar(ker, &tk, s, sd, gr, gout, q, k, v, rA, rB, a, gg, probs)
				}
				return out, gr
			}
			wantOut, want := run(1)
			for _, w := range []int{2, 3, 7} {
				name := fmt.Sprintf("B=%d rel=%v gate=%v sparse=%v causal=%v noself=%v da=%v cache=%v workers=%d", B, rel, gate, sparse, causal, noSelf, wantDA, cache, w)
				out, gr := run(w)
				for _, c := range []struct {
					what      string
					got, want []T
				}{
					{"out", out, wantOut}, {"dq", gr.dq, want.dq}, {"dk", gr.dk, want.dk}, {"dv", gr.dv, want.dv},
					{"da", gr.da, want.da}, {"dra", gr.dra, want.dra}, {"drb", gr.drb, want.drb}, {"dg", gr.dg, want.dg},
				} {
					if i, ok := bitsEqual(c.got, c.want); !ok {
						t.Fatalf("%s: %s differs from the serial pass at %d", name, c.what, i)
					}
				}
				// The test must bite: the gradients are not all zero.
				if rel && allZero(gr.dra) || wantDA && allZero(gr.da) || allZero(gr.dq) {
					t.Fatalf("%s: zero gradients", name)
				}
			}
		}
	}
}

func allZero[T float](x []T) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestParallelLayerNormBitIdentical: the float32 LayerNorm forward and
// backward (with and without cached row statistics, with and without the
// duplicated input gradient of AddLayerNorm) split over 2, 3 and 7 workers
// give the serial bits: output, dx, dx2, dgain, dbias; rows not divisible
// by the worker counts, widths with and without a 4-lane tail.
func TestParallelLayerNormBitIdentical(t *testing.T) {
	old := lnMinSplit
	lnMinSplit = 0
	defer func() { lnMinSplit = old }()
	rng := rand.New(rand.NewPCG(4, 4))
	for _, sh := range [][2]int{{23, 32}, {5, 7}, {2, 64}} {
		rows, d := sh[0], sh[1]
		rv := func(n int, sd float64) *tensor.Dense {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(0.3 + sd*rng.NormFloat64())
			}
			return tensor.New(tensor.WithShape(n), tensor.WithBacking(v))
		}
		x, gy := rv(rows*d, 2), rv(rows*d, 1)
		x.Reshape(rows, d)
		gy.Reshape(rows, d)
		gain, bias := rv(d, 1), rv(d, 1)
		for _, cache := range []bool{false, true} {
			for _, dup := range []bool{false, true} {
				run := func(workers int) [][]float32 {
					k := &layerNormKernel{eps: LayerNormEps, cache: cache, workers: workers}
					out := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(rows, d))
					if err := k.forward([]*tensor.Dense{x, gain, bias}, out); err != nil {
						t.Fatal(err)
					}
					grads := []*tensor.Dense{newLike(tensor.Float32, rows, d), newLike(tensor.Float32, d), newLike(tensor.Float32, d)}
					var dx2 *tensor.Dense
					if dup {
						dx2 = newLike(tensor.Float32, rows, d)
					}
					// Twice: the second pass reuses the kernel's buffers.
					for rep := 0; rep < 2; rep++ {
						if err := k.backwardDup([]*tensor.Dense{x, gain, bias}, gy, grads, dx2); err != nil {
							t.Fatal(err)
						}
					}
					res := [][]float32{slice[float32](out), slice[float32](grads[0]), slice[float32](grads[1]), slice[float32](grads[2])}
					if dup {
						res = append(res, slice[float32](dx2))
					}
					return res
				}
				want := run(1)
				for _, w := range []int{2, 3, 7} {
					got := run(w)
					for i, what := range []string{"y", "dx", "dgain", "dbias", "dx2"}[:len(want)] {
						if j, ok := bitsEqual(got[i], want[i]); !ok {
							t.Fatalf("rows %d, d %d, cache %v, dup %v, %d workers: %s differs at %d", rows, d, cache, dup, w, what, j)
						}
						if allZero(want[i]) {
							t.Fatalf("%s is zero", what)
						}
					}
				}
			}
		}
	}
}

// TestParallelGELUBitIdentical: the float32 GELU forward (with its cached
// derivative) and backward split over 2, 3 and 7 workers give the serial
// bits, on lengths that are not whole chunks, with pre-activations wide
// enough to reach the tails.
func TestParallelGELUBitIdentical(t *testing.T) {
	old := geluMinSplit
	geluMinSplit = 0
	defer func() { geluMinSplit = old }()
	rng := rand.New(rand.NewPCG(8, 1))
	for _, n := range []int{256*5 + 37, 300, 256 * 4} {
		xv, gv := make([]float32, n), make([]float32, n)
		for i := range xv {
			xv[i], gv[i] = float32(4*rng.NormFloat64()), float32(rng.NormFloat64())
		}
		xv[3], xv[n-1] = 20, -15
		x := tensor.New(tensor.WithShape(n), tensor.WithBacking(xv))
		gy := tensor.New(tensor.WithShape(n), tensor.WithBacking(gv))
		run := func(workers int) [][]float32 {
			k := &activationKernel{act: GELU, workers: workers}
			k.enableCache()
			out, dx := newLike(tensor.Float32, n), newLike(tensor.Float32, n)
			if err := k.forward([]*tensor.Dense{x}, out); err != nil {
				t.Fatal(err)
			}
			if err := k.backward([]*tensor.Dense{x}, out, gy, []*tensor.Dense{dx}); err != nil {
				t.Fatal(err)
			}
			return [][]float32{slice[float32](out), k.deriv.([]float32), slice[float32](dx)}
		}
		want := run(1)
		for _, w := range []int{2, 3, 7} {
			got := run(w)
			for i, what := range []string{"y", "dy", "dx"} {
				if j, ok := bitsEqual(got[i], want[i]); !ok {
					t.Fatalf("n %d, %d workers: %s differs at %d", n, w, what, j)
				}
			}
		}
	}
}
