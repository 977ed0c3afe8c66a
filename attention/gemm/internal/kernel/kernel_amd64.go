package kernel

import "golang.org/x/sys/cpu"

// SgemmTile6x16 computes tile[6][16] = sum over p < kc of the outer
// product of a[p*6 : p*6+6] and b[p*16 : p*16+16] (implemented in
// kernel_amd64.s with AVX2 and FMA). Callers must check Have.
//
//go:noescape
func SgemmTile6x16(kc int, a, b, tile *float32)

// SgemmAcc6x16 adds the same product as SgemmTile6x16 to the 6x16 block of
// C at c with leading dimension ldc (in elements); the whole block must lie
// inside C.
//
//go:noescape
func SgemmAcc6x16(kc int, a, b, c *float32, ldc int)

// SgemmStrided6x16 adds to (add != 0) or stores into (add == 0) the 6x16
// block of C at c (leading dimension ldc) the product of a 6 x kc block of
// A, element (r, p) at a[r*ars + p*acs], and a kc x 16 block of B, element
// (p, j) at b[p*brs + j], reading both in place (no packing). The whole C
// block must lie inside C.
//
//go:noescape
func SgemmStrided6x16(kc int, a *float32, ars, acs int, b *float32, brs int, c *float32, ldc int, add int)

// Have reports whether this CPU can run the micro-kernel.
var Have = cpu.X86.HasAVX2 && cpu.X86.HasFMA
