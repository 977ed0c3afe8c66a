package attention

import "github.com/viterin/vek/vek32"

// gelu32 computes GELU(x) into y and GELU'(x) into dy (either may be nil)
// for float32, in chunks through vek's AVX2 element-wise kernels: the same
// formula as geluCDF's float32 branch (Abramowitz & Stegun 7.1.26 erf), but
// about 5x cheaper than the scalar loop, which dominated the activation cost.
func gelu32(y, dy, x []float32) {
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
			cdf := h
			if v >= 0 {
				cdf = 1 - h
			}
			if y != nil {
				y[lo+i] = v * cdf
			}
			if dy != nil {
				dy[lo+i] = cdf + v*invSqrt2Pi*e[i]
			}
		}
	}
}
