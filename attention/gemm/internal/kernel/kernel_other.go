//go:build !amd64

package kernel

// Have reports whether this CPU can run the micro-kernel.
const Have = false

// SgemmStrided6x16 is not available on this architecture.
func SgemmStrided6x16(kc int, a *float32, ars, acs int, b *float32, brs int, c *float32, ldc int, add int) {
	panic("gemm: no micro-kernel on this architecture")
}
