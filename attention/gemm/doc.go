// Package gemm owns the fast matrix-multiply backend of commgraph's learner.
//
// The learner is GEMM-bound, and gonum's pure-Go sgemm (the default under
// gorgonia) runs at about 10 GFLOP/s on the target machines. Impl embeds
// gonum's BLAS implementation and overrides Sgemm and Dgemm with
// github.com/viterin/vek's AVX2 assembly kernels (pure Go, no cgo); built
// with the `openblas` tag, Default returns an implementation whose Sgemm and
// Dgemm call OpenBLAS's cblas through cgo (needs libopenblas-dev).
//
// Call Use once at start-up: it installs Default() under gorgonia and its
// tensor package (gorgonia.Use also calls tensor.Use), so every matrix
// product of a TapeMachine, forward and backward, runs on the fast kernel.
// The inference path of package attention calls Sgemm directly.
package gemm
