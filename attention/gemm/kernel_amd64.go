package gemm

import "golang.org/x/sys/cpu"

// sgemmTile6x16 is implemented in kernel_amd64.s (AVX2 + FMA).
//
//go:noescape
func sgemmTile6x16(kc int, a, b, tile *float32)

// haveTile reports whether the CPU runs the assembly micro-kernel.
var haveTile = cpu.X86.HasAVX2 && cpu.X86.HasFMA
