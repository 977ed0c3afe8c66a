//go:build !amd64

package gemm

const haveTile = false

func sgemmTile6x16(kc int, a, b, tile *float32) { panic("gemm: no micro-kernel on this architecture") }
