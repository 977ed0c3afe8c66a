//go:build !openblas

package gemm

// Default returns the fastest backend of this build: Native (this
// package's packed AVX2/FMA micro-kernel for Sgemm, vek for Dgemm; pure Go
// and Go assembly, no cgo). Build with -tags openblas for OpenBLAS.
func Default() (BLAS, string) {
	if haveTile {
		return Native{}, "native"
	}
	return Vek{}, "vek"
}
