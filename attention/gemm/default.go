//go:build !openblas

package gemm

import "github.com/commgraph/commgraph/attention/gemm/internal/kernel"

// Default returns the fastest backend of this build: Native (this
// package's packed AVX2/FMA micro-kernel for Sgemm, vek for Dgemm; pure Go
// and Go assembly, no cgo). Build with -tags openblas for OpenBLAS.
func Default() (BLAS, string) {
	if kernel.Have {
		return Native{}, "native"
	}
	return Vek{}, "vek"
}
