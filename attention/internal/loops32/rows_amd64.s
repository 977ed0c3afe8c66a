#include "textflag.h"

// func addRows4(y, x *float32, n, rows, ys, xs int)
// y[r*ys+i] += x[r*xs+i] for r < rows, i < n (SSE, four columns a step).
TEXT ·addRows4(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), BX
	SHRQ $2, BX
	MOVQ rows+24(FP), DX
	MOVQ ys+32(FP), R8
	SHLQ $2, R8
	MOVQ xs+40(FP), R9
	SHLQ $2, R9
rowloop:
	MOVQ BX, CX
	XORQ AX, AX
colloop:
	MOVUPS (DI)(AX*1), X0
	MOVUPS (SI)(AX*1), X1
	ADDPS X1, X0
	MOVUPS X0, (DI)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ colloop
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ DX
	JNZ rowloop
	RET

// func colSums32(db, gp *float32, rows, d int)
// db[j] += gp[r*d+j] for r < rows, j < 32: eight SSE accumulators held in
// registers over all rows (d is the row stride in elements).
TEXT ·colSums32(SB), NOSPLIT, $0-32
	MOVQ db+0(FP), DI
	MOVQ gp+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ d+24(FP), R8
	SHLQ $2, R8
	MOVUPS 0(DI), X0
	MOVUPS 16(DI), X1
	MOVUPS 32(DI), X2
	MOVUPS 48(DI), X3
	MOVUPS 64(DI), X4
	MOVUPS 80(DI), X5
	MOVUPS 96(DI), X6
	MOVUPS 112(DI), X7
csloop:
	MOVUPS 0(SI), X8
	MOVUPS 16(SI), X9
	MOVUPS 32(SI), X10
	MOVUPS 48(SI), X11
	ADDPS X8, X0
	ADDPS X9, X1
	ADDPS X10, X2
	ADDPS X11, X3
	MOVUPS 64(SI), X12
	MOVUPS 80(SI), X13
	MOVUPS 96(SI), X14
	MOVUPS 112(SI), X15
	ADDPS X12, X4
	ADDPS X13, X5
	ADDPS X14, X6
	ADDPS X15, X7
	ADDQ R8, SI
	DECQ DX
	JNZ csloop
	MOVUPS X0, 0(DI)
	MOVUPS X1, 16(DI)
	MOVUPS X2, 32(DI)
	MOVUPS X3, 48(DI)
	MOVUPS X4, 64(DI)
	MOVUPS X5, 80(DI)
	MOVUPS X6, 96(DI)
	MOVUPS X7, 112(DI)
	RET

// func mul4(dst, a, b *float32, n int)
// dst[i] = a[i] * b[i] for i < n, eight elements a step while they last.
TEXT ·mul4(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
mulpair:
	CMPQ CX, $2
	JLT mulone
	MOVUPS (SI)(AX*1), X0
	MOVUPS 16(SI)(AX*1), X1
	MOVUPS (DX)(AX*1), X2
	MOVUPS 16(DX)(AX*1), X3
	MULPS X2, X0
	MULPS X3, X1
	MOVUPS X0, (DI)(AX*1)
	MOVUPS X1, 16(DI)(AX*1)
	ADDQ $32, AX
	SUBQ $2, CX
	JMP mulpair
mulone:
	TESTQ CX, CX
	JZ muldone
	MOVUPS (SI)(AX*1), X0
	MOVUPS (DX)(AX*1), X2
	MULPS X2, X0
	MOVUPS X0, (DI)(AX*1)
muldone:
	RET

// func add4(dst, a, b *float32, n int)
// dst[i] = a[i] + b[i] for i < n.
TEXT ·add4(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
addpair:
	CMPQ CX, $2
	JLT addone
	MOVUPS (SI)(AX*1), X0
	MOVUPS 16(SI)(AX*1), X1
	MOVUPS (DX)(AX*1), X2
	MOVUPS 16(DX)(AX*1), X3
	ADDPS X2, X0
	ADDPS X3, X1
	MOVUPS X0, (DI)(AX*1)
	MOVUPS X1, 16(DI)(AX*1)
	ADDQ $32, AX
	SUBQ $2, CX
	JMP addpair
addone:
	TESTQ CX, CX
	JZ adddone
	MOVUPS (SI)(AX*1), X0
	MOVUPS (DX)(AX*1), X2
	ADDPS X2, X0
	MOVUPS X0, (DI)(AX*1)
adddone:
	RET
