package attention

import (
	"math"

	"github.com/commgraph/commgraph/attention/internal/loops32"
	"github.com/viterin/vek/vek32"
)

// geluExpFloor is the smallest argument passed to vek32.Exp (exp(-87) =
// 1.6e-38, just above float32's smallest normal number; vek32's AVX2 Exp is
// correct down to about -87.5). geluTailCut = sqrt(-2 geluExpFloor) is the
// |x| beyond which -x^2/2 < geluExpFloor.
const (
	geluExpFloor = -87
	geluTailCut  = 13.190906
)

// geluTailCutBits is the bit pattern of float32(geluTailCut): for
// non-negative floats the bit patterns order as the values do.
var geluTailCutBits = math.Float32bits(geluTailCut)

// gelu32 computes GELU(x) into y and GELU'(x) into dy (either may be nil)
// for float32, in chunks through vek's AVX2 element-wise kernels: the same
// formula as geluCDF's float32 branch (Abramowitz & Stegun 7.1.26 erf), but
// about 5x cheaper than the scalar loop, which dominated the activation cost.
//
// vek32's AVX2 Exp (v0.4.3) is wrong below about -88: it returns 0, -Inf,
// NaN or large negative numbers for arguments in roughly [-104, -88]
// instead of a subnormal, so exp(-x^2/2) is taken of an argument clamped at
// geluExpFloor, and for |x| > geluTailCut (where the clamp is active) the
// density and Phi(-|x|) are set to exactly 0: their true values are below
// 2e-38 there, so GELU(x) = x or 0 and GELU'(x) = 1 or 0 in float32.
func gelu32(y, dy, x []float32) {
	const chunk = 256
	var eb, tb, ub, yb, db [chunk]float32
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
		vek32.Mul_Into(e, xs, xs)
		vek32.MulNumber_Inplace(e, -0.5)
		vek32.MaximumNumber_Inplace(e, geluExpFloor)
		vek32.Exp_Inplace(e)
		// t = 1/(1 + p z).
		vek32.Abs_Into(t, xs)
		vek32.MulNumber_Inplace(t, p*invSqrt2)
		vek32.AddNumber_Inplace(t, 1)
		vek32.Inv_Inplace(t)
		// u = t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e = 1 - erf(z).
		vek32.MulNumber_Into(u, t, a5)
		vek32.AddNumber_Inplace(u, a4)
		vek32.Mul_Inplace(u, t)
		vek32.AddNumber_Inplace(u, a3)
		vek32.Mul_Inplace(u, t)
		vek32.AddNumber_Inplace(u, a2)
		vek32.Mul_Inplace(u, t)
		vek32.AddNumber_Inplace(u, a1)
		vek32.Mul_Inplace(u, t)
		vek32.Mul_Inplace(u, e)
		// Selections by bit masks instead of branches: the sign of a
		// pre-activation is random, so a branch on it mispredicts about half
		// the time, which cost more than the vector passes above. The
		// arithmetic (and so every result bit) is that of the branchy form:
		// h, e = 0 for |x| > geluTailCut; cdf = 1 - h for x >= 0, else h
		// (loops32.GELUSelect, four lanes at a time).
		ys, dys := yb[:n], db[:n]
		if y != nil {
			ys = y[lo:hi]
		}
		if dy != nil {
			dys = dy[lo:hi]
		}
		loops32.GELUSelect(ys, dys, xs, u[:n], e[:n], geluTailCutBits, invSqrt2Pi)
	}
}
