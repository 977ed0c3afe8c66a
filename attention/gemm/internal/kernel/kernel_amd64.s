#include "textflag.h"

// func SgemmStrided6x16(kc int, a *float32, ars, acs int, b *float32, brs int, c *float32, ldc int, add int)
//
// c[r*ldc + j] (+)= sum_{p<kc} A(r, p) B(p, j) for r < 6, j < 16, reading
// the operands in place: A(r, p) at a + r*ars + p*acs and B(p, j) at
// b + p*brs + j (strides in elements, B's 16 columns contiguous); the tile
// is added to C when add != 0 and stored over it otherwise. Rows of A are
// addressed from one base register with scaled indexes, so each step costs
// one pointer increment per operand. Twelve YMM accumulators hold the 6x16
// tile; each step loads two vectors of B, broadcasts the six values of A and
// issues twelve FMAs (register blocking after Goto & van de Geijn, "Anatomy
// of High-Performance Matrix Multiplication", ACM TOMS 2008).
TEXT ·SgemmStrided6x16(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ars+16(FP), R8
	SHLQ $2, R8            // R8 = row stride of A in bytes
	MOVQ acs+24(FP), R12
	SHLQ $2, R12           // R12 = column step of A in bytes
	MOVQ b+32(FP), DI
	MOVQ brs+40(FP), R13
	SHLQ $2, R13           // R13 = row step of B in bytes
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R14
	SHLQ $2, R14
	LEAQ (R8)(R8*2), R9    // 3 rows
	LEAQ (R8)(R8*4), R11   // 5 rows
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JE sstore

sloop:
	VMOVUPS 0(DI), Y12
	VMOVUPS 32(DI), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS Y12, Y14, Y0
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS (SI)(R8*1), Y15
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS (SI)(R8*2), Y14
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS (SI)(R9*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS (SI)(R8*4), Y14
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS (SI)(R11*1), Y15
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ R12, SI
	ADDQ R13, DI
	DECQ CX
	JNE sloop

sstore:
	MOVQ add+64(FP), AX
	TESTQ AX, AX
	JE sset
	VADDPS 0(DX), Y0, Y0
	VADDPS 32(DX), Y1, Y1
	VMOVUPS Y0, 0(DX)
	VMOVUPS Y1, 32(DX)
	ADDQ R14, DX
	VADDPS 0(DX), Y2, Y2
	VADDPS 32(DX), Y3, Y3
	VMOVUPS Y2, 0(DX)
	VMOVUPS Y3, 32(DX)
	ADDQ R14, DX
	VADDPS 0(DX), Y4, Y4
	VADDPS 32(DX), Y5, Y5
	VMOVUPS Y4, 0(DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R14, DX
	VADDPS 0(DX), Y6, Y6
	VADDPS 32(DX), Y7, Y7
	VMOVUPS Y6, 0(DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R14, DX
	VADDPS 0(DX), Y8, Y8
	VADDPS 32(DX), Y9, Y9
	VMOVUPS Y8, 0(DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R14, DX
	VADDPS 0(DX), Y10, Y10
	VADDPS 32(DX), Y11, Y11
	VMOVUPS Y10, 0(DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

sset:
	VMOVUPS Y0, 0(DX)
	VMOVUPS Y1, 32(DX)
	ADDQ R14, DX
	VMOVUPS Y2, 0(DX)
	VMOVUPS Y3, 32(DX)
	ADDQ R14, DX
	VMOVUPS Y4, 0(DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R14, DX
	VMOVUPS Y6, 0(DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R14, DX
	VMOVUPS Y8, 0(DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R14, DX
	VMOVUPS Y10, 0(DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET
