package loops32

// The assembly routines take n > 0, a multiple of 4, and pointers to at
// least n elements.

//go:noescape
func dot4(a, b *float32, n int, s *[4]float32)

//go:noescape
func dotRel4(q, ra, k, rb *float32, n int, s *[4]float32)

//go:noescape
func axpy4(a float32, x, y *float32, n int)

//go:noescape
func relGrad4(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int)

//go:noescape
func subScalar4(dst, x *float32, c float32, n int)

//go:noescape
func scaleMulAdd4(y *float32, s float32, gn, bn *float32, n int)

//go:noescape
func lnBackRow4(xh, dxh, dgain, dbias, x, gy, gain *float32, mean, rstd float32, n int)

//go:noescape
func lnBackDx4(dx, xh, dxh *float32, negM2, negM1, rstd float32, n int)

//go:noescape
func geluSelect4(y, dy, x, u, e *float32, tailBits uint32, c float32, n int)

//go:noescape
func relGradPair4(t float32, q, ra, k, rb, dx, dy *float32, n int)

//go:noescape
func lnRowParts4(xh, dxh, x, gy, gain *float32, mean, rstd float32, n int)

//go:noescape
func lnGainBias4(dgain, dbias, x, gy *float32, mean, rstd float32, n int)
