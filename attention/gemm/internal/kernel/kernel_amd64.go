package kernel

import "golang.org/x/sys/cpu"

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
