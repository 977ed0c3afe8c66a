//go:build !amd64

package kernel

// Have reports whether this CPU can run the micro-kernel.
const Have = false

// SgemmTile6x16 is not available on this architecture.
func SgemmTile6x16(kc int, a, b, tile *float32) { panic("gemm: no micro-kernel on this architecture") }

// SgemmAcc6x16 is not available on this architecture.
func SgemmAcc6x16(kc int, a, b, c *float32, ldc int) {
	panic("gemm: no micro-kernel on this architecture")
}

// SgemmStrided6x16 is not available on this architecture.
func SgemmStrided6x16(kc int, a *float32, ars, acs int, b *float32, brs int, c *float32, ldc int, add int) {
	panic("gemm: no micro-kernel on this architecture")
}
