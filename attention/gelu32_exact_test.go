package attention

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/viterin/vek/vek32"
)

// TestGELU32BranchFreeExact: gelu32's mask selections give every bit that
// the branchy selection (gelu32Branchy, the form it replaced) gives, on
// random inputs and on the special points: signed zeros, the tail cut and
// its neighbours, infinities.
func TestGELU32BranchFreeExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 3000)
	for i := range x {
		x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(5))-2))
	}
	cut := float32(geluTailCut)
	x = append(x, 0, float32(math.Copysign(0, -1)), cut, -cut,
		math.Nextafter32(cut, 0), -math.Nextafter32(cut, 0),
		math.Nextafter32(cut, 100), -math.Nextafter32(cut, 100),
		float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32)
	n := len(x)
	y, dy, wy, wdy := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	gelu32(y, dy, x)
	gelu32Branchy(wy, wdy, x)
	for i := range x {
		if math.Float32bits(y[i]) != math.Float32bits(wy[i]) || math.Float32bits(dy[i]) != math.Float32bits(wdy[i]) {
			t.Fatalf("x=%v: got (%v, %v), branchy form (%v, %v)", x[i], y[i], dy[i], wy[i], wdy[i])
		}
	}
}

// BenchmarkGELU32Branchy: the branchy form on the inputs of
// BenchmarkGELU32Random, for comparison.
func BenchmarkGELU32Branchy(b *testing.B) { benchGELU32Random(b, gelu32Branchy) }

// gelu32Branchy is gelu32 as it was before its final selections were made
// branch-free (kept as the reference of TestGELU32BranchFreeExact).
func gelu32Branchy(y, dy, x []float32) {
	const chunk = 256
	var eb, tb, ub [chunk]float32
	const (
		p  = 0.3275911
		a1 = 0.254829592
		a2 = -0.284496736
		a3 = 1.421413741
		a4 = -1.453152027
		a5 = 1.061405429
	)
	for lo := 0; lo < len(x); lo += chunk {
		hi := min(lo+chunk, len(x))
		xs := x[lo:hi]
		n := len(xs)
		e, t, u := eb[:n], tb[:n], ub[:n]
		// e = exp(-x^2/2) = exp(-z^2) with z = |x|/sqrt2.
		copy(e, xs)
		vek32.Mul_Inplace(e, xs)
		vek32.MulNumber_Inplace(e, -0.5)
		vek32.MaximumNumber_Inplace(e, geluExpFloor)
		vek32.Exp_Inplace(e)
		// t = 1/(1 + p z).
		copy(t, xs)
		vek32.Abs_Inplace(t)
		vek32.MulNumber_Inplace(t, p*invSqrt2)
		vek32.AddNumber_Inplace(t, 1)
		vek32.Inv_Inplace(t)
		// u = t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e = 1 - erf(z).
		copy(u, t)
		vek32.MulNumber_Inplace(u, a5)
		vek32.AddNumber_Inplace(u, a4)
		vek32.Mul_Inplace(u, t)
		vek32.AddNumber_Inplace(u, a3)
		vek32.Mul_Inplace(u, t)
		vek32.AddNumber_Inplace(u, a2)
		vek32.Mul_Inplace(u, t)
		vek32.AddNumber_Inplace(u, a1)
		vek32.Mul_Inplace(u, t)
		vek32.Mul_Inplace(u, e)
		for i, v := range xs {
			h := 0.5 * u[i] // Phi(-|x|)
			ei := e[i]
			if v > geluTailCut || v < -geluTailCut {
				h, ei = 0, 0
			}
			cdf := h
			if v >= 0 {
				cdf = 1 - h
			}
			if y != nil {
				y[lo+i] = v * cdf
			}
			if dy != nil {
				dy[lo+i] = cdf + v*invSqrt2Pi*ei
			}
		}
	}
}
