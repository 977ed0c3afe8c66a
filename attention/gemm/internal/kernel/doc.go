// Package kernel holds the assembly micro-kernel of package gemm (kept in
// its own package because Go does not allow assembly next to cgo, which
// gemm uses under the openblas build tag).
package kernel
