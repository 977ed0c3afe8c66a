package loops32

// Element-wise passes of the float32 layer norm (attention/layernorm32.go),
// each fusing several of the one-operation passes it replaces; every element
// goes through the same float32 operations in the same order.

// SubScalar sets dst[i] = x[i] - c for i < len(dst).
func SubScalar(dst, x []float32, c float32) {
	n := len(dst)
	x = x[:n]
	n4 := n &^ 3
	if n4 > 0 {
		subScalar4(&dst[0], &x[0], c, n4)
	}
	for i := n4; i < n; i++ {
		dst[i] = x[i] - c
	}
}

// ScaleMulAdd sets y[i] = ((y[i]*s) * g[i]) + b[i] for i < len(y).
func ScaleMulAdd(y []float32, s float32, g, b []float32) {
	n := len(y)
	g, b = g[:n], b[:n]
	n4 := n &^ 3
	if n4 > 0 {
		scaleMulAdd4(&y[0], s, &g[0], &b[0], n4)
	}
	for i := n4; i < n; i++ {
		y[i] = ((y[i] * s) * g[i]) + b[i]
	}
}

// LNBackRow does, for i < len(x):
//
//	xh[i] = (x[i] - mean) * rstd
//	dgain[i] += gy[i] * xh[i]
//	dbias[i] += gy[i]
//	dxh[i] = gy[i] * gain[i]
func LNBackRow(xh, dxh, dgain, dbias, x, gy, gain []float32, mean, rstd float32) {
	n := len(x)
	xh, dxh, dgain, dbias, gy, gain = xh[:n], dxh[:n], dgain[:n], dbias[:n], gy[:n], gain[:n]
	n4 := n &^ 3
	if n4 > 0 {
		lnBackRow4(&xh[0], &dxh[0], &dgain[0], &dbias[0], &x[0], &gy[0], &gain[0], mean, rstd, n4)
	}
	for i := n4; i < n; i++ {
		h := (x[i] - mean) * rstd
		xh[i] = h
		dgain[i] += gy[i] * h
		dbias[i] += gy[i]
		dxh[i] = gy[i] * gain[i]
	}
}

// LNBackDx sets dx[i] = (((xh[i] * negM2) + dxh[i]) + negM1) * rstd for
// i < len(dx).
func LNBackDx(dx, xh, dxh []float32, negM2, negM1, rstd float32) {
	n := len(dx)
	xh, dxh = xh[:n], dxh[:n]
	n4 := n &^ 3
	if n4 > 0 {
		lnBackDx4(&dx[0], &xh[0], &dxh[0], negM2, negM1, rstd, n4)
	}
	for i := n4; i < n; i++ {
		dx[i] = (((xh[i] * negM2) + dxh[i]) + negM1) * rstd
	}
}

// LNRowParts is LNBackRow without the dgain and dbias sums: xh[i] = (x[i] -
// mean) * rstd and dxh[i] = gy[i] * gain[i], with LNBackRow's operations.
func LNRowParts(xh, dxh, x, gy, gain []float32, mean, rstd float32) {
	n := len(x)
	xh, dxh, gy, gain = xh[:n], dxh[:n], gy[:n], gain[:n]
	n4 := n &^ 3
	if n4 > 0 {
		lnRowParts4(&xh[0], &dxh[0], &x[0], &gy[0], &gain[0], mean, rstd, n4)
	}
	for i := n4; i < n; i++ {
		xh[i] = float32(x[i]-mean) * rstd
		dxh[i] = gy[i] * gain[i]
	}
}

// LNGainBias is the rest of LNBackRow: dgain[i] += gy[i] * h and dbias[i] +=
// gy[i] with h = (x[i] - mean) * rstd recomputed, with LNBackRow's
// operations. LNRowParts and LNGainBias on the same row leave every output
// with the bits of LNBackRow, so that the gain and bias sums may be formed
// later, column block by column block (the parallel LayerNorm backward).
func LNGainBias(dgain, dbias, x, gy []float32, mean, rstd float32) {
	n := len(x)
	dgain, dbias, gy = dgain[:n], dbias[:n], gy[:n]
	n4 := n &^ 3
	if n4 > 0 {
		lnGainBias4(&dgain[0], &dbias[0], &x[0], &gy[0], mean, rstd, n4)
	}
	for i := n4; i < n; i++ {
		h := float32(x[i]-mean) * rstd
		dgain[i] += float32(gy[i] * h)
		dbias[i] += gy[i]
	}
}
