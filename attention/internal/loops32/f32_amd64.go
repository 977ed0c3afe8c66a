package loops32

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// useAVX selects the eight-lane forms of axpy and relGrad (the same bits as
// the four-lane ones); tests switch it off to cover the SSE forms too.
var useAVX = cpu.X86.HasAVX

//go:noescape
func axpy8(a float32, x, y *float32, n int)

//go:noescape
func relGrad8(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int)

// axpyN is axpy4 (n > 0, a multiple of 4), eight lanes at a time where AVX is there.
func axpyN(a float32, x, y *float32, n int) {
	if n8 := n &^ 7; useAVX && n8 > 0 {
		axpy8(a, x, y, n8)
		if n == n8 {
			return
		}
		x, y, n = at(x, n8), at(y, n8), n-n8
	}
	axpy4(a, x, y, n)
}

// relGradN is relGrad4 (n > 0, a multiple of 4), eight lanes at a time where AVX is there.
func relGradN(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int) {
	if n8 := n &^ 7; useAVX && n8 > 0 {
		relGrad8(t, q, ra, k, rb, dq, dk, dra, drb, n8)
		if n == n8 {
			return
		}
		q, ra, k, rb, dq, dk, dra, drb, n = at(q, n8), at(ra, n8), at(k, n8), at(rb, n8), at(dq, n8), at(dk, n8), at(dra, n8), at(drb, n8), n-n8
	}
	relGrad4(t, q, ra, k, rb, dq, dk, dra, drb, n)
}

func at(p *float32, i int) *float32 {
	return (*float32)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*4))
}

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
