//go:build !amd64

package loops32

import "unsafe"

// Portable forms of the assembly routines (same operations, same order).

func at(p *float32, i int) *float32 {
	return (*float32)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*4))
}

func dot4(a, b *float32, n int, s *[4]float32) {
	for i := 0; i < n; i += 4 {
		for m := 0; m < 4; m++ {
			s[m] += *at(a, i+m) * *at(b, i+m)
		}
	}
}

func dotRel4(q, ra, k, rb *float32, n int, s *[4]float32) {
	for i := 0; i < n; i += 4 {
		for m := 0; m < 4; m++ {
			s[m] += (*at(q, i+m) + *at(ra, i+m)) * (*at(k, i+m) + *at(rb, i+m))
		}
	}
}

// useAVX has no effect here (tests set it).
var useAVX = false

func axpyN(a float32, x, y *float32, n int) { axpy4(a, x, y, n) }

func relGradN(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int) {
	relGrad4(t, q, ra, k, rb, dq, dk, dra, drb, n)
}

func axpy4(a float32, x, y *float32, n int) {
	for i := 0; i < n; i++ {
		*at(y, i) += a * *at(x, i)
	}
}

func relGrad4(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int) {
	for i := 0; i < n; i++ {
		kb := float32(t * float32(*at(k, i)+*at(rb, i)))
		qa := float32(t * float32(*at(q, i)+*at(ra, i)))
		*at(dq, i) += kb
		*at(dra, i) += kb
		*at(dk, i) += qa
		*at(drb, i) += qa
	}
}

func relGradPair4(t float32, q, ra, k, rb, dx, dy *float32, n int) {
	for i := 0; i < n; i++ {
		kb := float32(t * float32(*at(k, i)+*at(rb, i)))
		qa := float32(t * float32(*at(q, i)+*at(ra, i)))
		*at(dx, i) += kb
		*at(dy, i) += qa
	}
}

func subScalar4(dst, x *float32, c float32, n int) {
	for i := 0; i < n; i++ {
		*at(dst, i) = *at(x, i) - c
	}
}

func scaleMulAdd4(y *float32, s float32, g, b *float32, n int) {
	for i := 0; i < n; i++ {
		*at(y, i) = ((*at(y, i) * s) * *at(g, i)) + *at(b, i)
	}
}

func lnBackRow4(xh, dxh, dgain, dbias, x, gy, gain *float32, mean, rstd float32, n int) {
	for i := 0; i < n; i++ {
		h := (*at(x, i) - mean) * rstd
		*at(xh, i) = h
		*at(dgain, i) += *at(gy, i) * h
		*at(dbias, i) += *at(gy, i)
		*at(dxh, i) = *at(gy, i) * *at(gain, i)
	}
}

func lnRowParts4(xh, dxh, x, gy, gain *float32, mean, rstd float32, n int) {
	for i := 0; i < n; i++ {
		*at(xh, i) = float32(*at(x, i)-mean) * rstd
		*at(dxh, i) = *at(gy, i) * *at(gain, i)
	}
}

func lnGainBias4(dgain, dbias, x, gy *float32, mean, rstd float32, n int) {
	for i := 0; i < n; i++ {
		h := float32(*at(x, i)-mean) * rstd
		*at(dgain, i) += float32(*at(gy, i) * h)
		*at(dbias, i) += *at(gy, i)
	}
}

func lnBackDx4(dx, xh, dxh *float32, negM2, negM1, rstd float32, n int) {
	for i := 0; i < n; i++ {
		*at(dx, i) = (((*at(xh, i) * negM2) + *at(dxh, i)) + negM1) * rstd
	}
}

func geluSelect4(y, dy, x, u, e *float32, tailBits uint32, c float32, n int) {
	for i := 0; i < n; i++ {
		*at(y, i), *at(dy, i) = geluSelect1(*at(x, i), *at(u, i), *at(e, i), tailBits, c)
	}
}
