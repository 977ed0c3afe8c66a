package loops32

import "math"

// GELUSelect is the selection step of the float32 GELU (attention/gelu32.go)
// after its vector passes: given the pre-activations x, u = 1 - erf(|x|/sqrt2)
// and e = exp(-x^2/2), it sets, for i < len(x),
//
//	tail = |x| > float32frombits(tailBits) (bit patterns compared; NaN counts as tail)
//	h = 0 if tail, else 0.5*u      (Phi(-|x|))
//	ei = 0 if tail, else e
//	cdf = h if x < 0 (x != -0), else 1 - h
//	y = x*cdf,  dy = cdf + (x*c)*ei
//
// with bit masks, as gelu32's loop does (y and dy both of length len(x)).
func GELUSelect(y, dy, x, u, e []float32, tailBits uint32, c float32) {
	n := len(x)
	y, dy, u, e = y[:n], dy[:n], u[:n], e[:n]
	n4 := n &^ 3
	if n4 > 0 {
		geluSelect4(&y[0], &dy[0], &x[0], &u[0], &e[0], tailBits, c, n4)
	}
	for i := n4; i < n; i++ {
		y[i], dy[i] = geluSelect1(x[i], u[i], e[i], tailBits, c)
	}
}

func geluSelect1(v, u, e float32, tailBits uint32, c float32) (y, dy float32) {
	vb := math.Float32bits(v)
	tail := uint32(int32(tailBits-vb&0x7fffffff) >> 31)
	h := math.Float32frombits(math.Float32bits(0.5*u) &^ tail)
	ei := math.Float32frombits(math.Float32bits(e) &^ tail)
	nz := uint32(-int32(vb&0x7fffffff) >> 31)
	neg := uint32(int32(vb)>>31) & nz
	hb, cb := math.Float32bits(h), math.Float32bits(1-h)
	cdf := math.Float32frombits(cb ^ (cb^hb)&neg)
	return v * cdf, cdf + v*c*ei
}
