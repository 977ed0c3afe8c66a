// Package gemm owns the fast matrix-multiply backend of commgraph's learner.
//
// The learner is GEMM-bound, and gonum's pure-Go sgemm (the default under
// gorgonia) runs at 10-18 GFLOP/s on the target machines. Three backends
// embed gonum's BLAS implementation and override its matrix products:
//
//   - Native (the default): Sgemm packs the operands into cache-sized panels
//     and runs a 6x16 register-blocked AVX2/FMA micro-kernel written in Go
//     assembly (kernel_amd64.s); Dgemm is vek's. No cgo.
//   - Vek: Sgemm and Dgemm from github.com/viterin/vek's AVX2 kernels.
//   - OpenBLAS (only with the `openblas` build tag): cblas through cgo;
//     needs libopenblas-dev; one OpenBLAS thread unless
//     OPENBLAS_NUM_THREADS is set.
//
// Measured on the 2-core development machine (GOMAXPROCS=1, CPU-time rates,
// BenchmarkSgemm): gonum 15-19 GFLOP/s, vek 25-33, Native 74-112 on the
// training shapes and 58-111 on acting shapes, OpenBLAS 75-114.
//
// Call Use once at start-up: it installs Default() under gorgonia and its
// tensor package (gorgonia.Use also calls tensor.Use), so every matrix
// product of a TapeMachine, forward and backward, runs on the fast kernel.
// The inference path of package attention calls Sgemm directly.
//
// Native splits large products over goroutines, by blocks of whole
// micro-tile rows of C or, when C has few rows, of 16-column slivers:
// GOMAXPROCS of them through the BLAS interface, a given count through
// SgemmN (the learner's linear layers pass their graph's worker count).
// Every element of C gets the same operations in the same order however C
// is split, so results do not depend on the count.
package gemm
