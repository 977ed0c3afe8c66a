package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestFloat32LoopsMatchPlainForms: the float32 element-wise and row-wise
// loops of the kernels that now run vectorised (mulInto, addInto: vek;
// colSums and the bias add of linearForward: attention/internal/loops32)
// give the bits of the plain scalar loops they replace, on random values
// with signed zeros, subnormals and infinities, widths with and without a
// tail, and the aliasing the kernels use (dst == b in activateBackward).
func TestFloat32LoopsMatchPlainForms(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, float32(math.Inf(1)), float32(math.Inf(-1)), 3e38}
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			if r.IntN(8) == 0 {
				v[i] = special[r.IntN(len(special))]
			} else {
				v[i] = float32(r.NormFloat64() * math.Exp(3*r.Float64()))
			}
		}
		return v
	}
	same := func(what string, n int, got, want []float32) {
		t.Helper()
		for i := range want {
			g, w := got[i], want[i]
			if g != g && w != w { // NaN (inf - inf): the payload is not part of the contract
				continue
			}
			if math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("%s, n = %d: element %d = %v, the plain loop gives %v", what, n, i, g, w)
			}
		}
	}
	for _, n := range []int{1, 5, 8, 31, 64, 67, 1000, 4099} {
		a, b := vec(n), vec(n)
		want := make([]float32, n)
		for i := range want {
			want[i] = a[i] * b[i]
		}
		got := make([]float32, n)
		mulInto(got, a, b)
		same("mulInto", n, got, want)
		alias := append([]float32(nil), b...)
		mulInto(alias, a, alias)
		same("mulInto (dst == b)", n, alias, want)
		for i := range want {
			want[i] = a[i] + b[i]
		}
		addInto(got, a, b)
		same("addInto", n, got, want)
	}
	for _, d := range []int{1, 4, 6, 32, 33, 64, 70, 96} {
		for _, rows := range []int{1, 3, 50} {
			g := vec(rows * d)
			db := vec(d) // stale values: colSums starts from zero
			want := make([]float32, d)
			for row := 0; row < rows; row++ {
				for j, v := range g[row*d : (row+1)*d] {
					want[j] += v
				}
			}
			colSums(db, g, d)
			same("colSums", d, db, want)

			// linearForward = GEMM, then the bias row by row.
			const in = 3
			x, w, bias := vec(rows*in), vec(in*d), vec(d)
			y := vec(rows * d)
			linearForward(1, y, x, w, bias, rows, in, d)
			ref := make([]float32, rows*d)
			gemmT(1, blas.NoTrans, blas.NoTrans, rows, d, in, 1, x, in, w, d, 0, ref, d)
			for row := 0; row < rows; row++ {
				for j := range bias {
					ref[row*d+j] += bias[j]
				}
			}
			same("linearForward", d, y, ref)
		}
	}
}
