//go:build !openblas

package gemm

// Default returns the fastest backend of this build: vek (pure Go + AVX2
// assembly). Build with -tags openblas for OpenBLAS.
func Default() (BLAS, string) { return Vek{}, "vek" }
