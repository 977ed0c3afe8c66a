#include "textflag.h"

// SSE, four float32 lanes; MOVUPS (unaligned) loads and stores. Products
// and sums are rounded one operation at a time, as in the Go loops.

// func dot4(a, b *float32, n int, s *[4]float32)
// s[m] += a[i]*b[i] for i = m, m+4, ... < n, in increasing i.
TEXT ·dot4(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ s+24(FP), DX
	MOVUPS (DX), X0
	SHRQ $2, CX
dotloop:
	MOVUPS (SI), X1
	MOVUPS (DI), X2
	MULPS X2, X1
	ADDPS X1, X0
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ dotloop
	MOVUPS X0, (DX)
	RET

// func dotRel4(q, ra, k, rb *float32, n int, s *[4]float32)
// s[m] += (q[i]+ra[i])*(k[i]+rb[i]) for i = m, m+4, ... < n.
TEXT ·dotRel4(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ ra+8(FP), DI
	MOVQ k+16(FP), R8
	MOVQ rb+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ s+40(FP), DX
	MOVUPS (DX), X0
	SHRQ $2, CX
relloop:
	MOVUPS (SI), X1
	MOVUPS (DI), X2
	ADDPS X2, X1
	MOVUPS (R8), X3
	MOVUPS (R9), X4
	ADDPS X4, X3
	MULPS X3, X1
	ADDPS X1, X0
	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $16, R8
	ADDQ $16, R9
	DECQ CX
	JNZ relloop
	MOVUPS X0, (DX)
	RET

// func axpy4(a float32, x, y *float32, n int)
// y[i] += a*x[i] for i < n.
TEXT ·axpy4(SB), NOSPLIT, $0-32
	MOVSS a+0(FP), X0
	SHUFPS $0, X0, X0
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $2, CX
axpyloop:
	MOVUPS (SI), X1
	MULPS X0, X1
	MOVUPS (DI), X2
	ADDPS X1, X2
	MOVUPS X2, (DI)
	ADDQ $16, SI
	ADDQ $16, DI
	DECQ CX
	JNZ axpyloop
	RET

// func relGrad4(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int)
// kb = t*(k[i]+rb[i]); qa = t*(q[i]+ra[i]); dq[i] += kb; dra[i] += kb;
// dk[i] += qa; drb[i] += qa, for i < n.
TEXT ·relGrad4(SB), NOSPLIT, $0-80
	MOVSS t+0(FP), X0
	SHUFPS $0, X0, X0
	MOVQ q+8(FP), SI
	MOVQ ra+16(FP), DI
	MOVQ k+24(FP), R8
	MOVQ rb+32(FP), R9
	MOVQ dq+40(FP), R10
	MOVQ dk+48(FP), R11
	MOVQ dra+56(FP), R12
	MOVQ drb+64(FP), R13
	MOVQ n+72(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
gradloop:
	MOVUPS (R8)(AX*1), X1
	MOVUPS (R9)(AX*1), X2
	ADDPS X2, X1
	MULPS X0, X1           // kb
	MOVUPS (SI)(AX*1), X3
	MOVUPS (DI)(AX*1), X4
	ADDPS X4, X3
	MULPS X0, X3           // qa
	MOVUPS (R10)(AX*1), X5
	ADDPS X1, X5
	MOVUPS X5, (R10)(AX*1)
	MOVUPS (R12)(AX*1), X6
	ADDPS X1, X6
	MOVUPS X6, (R12)(AX*1)
	MOVUPS (R11)(AX*1), X7
	ADDPS X3, X7
	MOVUPS X7, (R11)(AX*1)
	MOVUPS (R13)(AX*1), X8
	ADDPS X3, X8
	MOVUPS X8, (R13)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ gradloop
	RET

// func subScalar4(dst, x *float32, c float32, n int)
// dst[i] = x[i] - c.
TEXT ·subScalar4(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVSS c+16(FP), X0
	SHUFPS $0, X0, X0
	MOVQ n+24(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
subloop:
	MOVUPS (SI)(AX*1), X1
	SUBPS X0, X1
	MOVUPS X1, (DI)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ subloop
	RET

// func scaleMulAdd4(y *float32, s float32, gn, bn *float32, n int)
// y[i] = ((y[i]*s)*g[i]) + b[i].
TEXT ·scaleMulAdd4(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVSS s+8(FP), X0
	SHUFPS $0, X0, X0
	MOVQ gn+16(FP), SI
	MOVQ bn+24(FP), DX
	MOVQ n+32(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
smaloop:
	MOVUPS (DI)(AX*1), X1
	MULPS X0, X1
	MOVUPS (SI)(AX*1), X2
	MULPS X2, X1
	MOVUPS (DX)(AX*1), X3
	ADDPS X3, X1
	MOVUPS X1, (DI)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ smaloop
	RET

// func lnBackRow4(xh, dxh, dgain, dbias, x, gy, gain *float32, mean, rstd float32, n int)
// h = (x[i]-mean)*rstd; xh[i] = h; dgain[i] += gy[i]*h; dbias[i] += gy[i];
// dxh[i] = gy[i]*gain[i].
TEXT ·lnBackRow4(SB), NOSPLIT, $0-72
	MOVQ xh+0(FP), R8
	MOVQ dxh+8(FP), R9
	MOVQ dgain+16(FP), R10
	MOVQ dbias+24(FP), R11
	MOVQ x+32(FP), SI
	MOVQ gy+40(FP), DI
	MOVQ gain+48(FP), DX
	MOVSS mean+56(FP), X0
	SHUFPS $0, X0, X0
	MOVSS rstd+60(FP), X1
	SHUFPS $0, X1, X1
	MOVQ n+64(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
lnbloop:
	MOVUPS (SI)(AX*1), X2
	SUBPS X0, X2
	MULPS X1, X2               // h
	MOVUPS X2, (R8)(AX*1)
	MOVUPS (DI)(AX*1), X3      // gy
	MULPS X3, X2               // gy*h
	MOVUPS (R10)(AX*1), X4
	ADDPS X2, X4
	MOVUPS X4, (R10)(AX*1)
	MOVUPS (R11)(AX*1), X5
	ADDPS X3, X5
	MOVUPS X5, (R11)(AX*1)
	MOVUPS (DX)(AX*1), X6
	MULPS X6, X3               // gy*gain
	MOVUPS X3, (R9)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ lnbloop
	RET

// func lnBackDx4(dx, xh, dxh *float32, negM2, negM1, rstd float32, n int)
// dx[i] = (((xh[i]*negM2) + dxh[i]) + negM1) * rstd.
TEXT ·lnBackDx4(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ xh+8(FP), SI
	MOVQ dxh+16(FP), DX
	MOVSS negM2+24(FP), X0
	SHUFPS $0, X0, X0
	MOVSS negM1+28(FP), X1
	SHUFPS $0, X1, X1
	MOVSS rstd+32(FP), X2
	SHUFPS $0, X2, X2
	MOVQ n+40(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
dxloop:
	MOVUPS (SI)(AX*1), X3
	MULPS X0, X3
	MOVUPS (DX)(AX*1), X4
	ADDPS X4, X3
	ADDPS X1, X3
	MULPS X2, X3
	MOVUPS X3, (DI)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ dxloop
	RET

// func geluSelect4(y, dy, x, u, e *float32, tailBits uint32, c float32, n int)
// See GELUSelect; integer lanes (SSE2) for the masks.
TEXT ·geluSelect4(SB), NOSPLIT, $0-56
	MOVQ y+0(FP), DI
	MOVQ dy+8(FP), R8
	MOVQ x+16(FP), SI
	MOVQ u+24(FP), R9
	MOVQ e+32(FP), R10
	MOVL tailBits+40(FP), AX
	MOVQ AX, X14
	PSHUFD $0, X14, X14        // tail threshold bits
	MOVSS c+44(FP), X11
	SHUFPS $0, X11, X11        // c
	MOVQ n+48(FP), CX
	MOVL $0x7fffffff, AX
	MOVQ AX, X15
	PSHUFD $0, X15, X15        // abs mask
	MOVL $0x3f000000, AX
	MOVQ AX, X13
	PSHUFD $0, X13, X13        // 0.5
	MOVL $0x3f800000, AX
	MOVQ AX, X12
	PSHUFD $0, X12, X12        // 1.0
	PXOR X10, X10              // 0
	XORQ AX, AX
	SHRQ $2, CX
geluloop:
	MOVUPS (SI)(AX*1), X0      // v
	MOVAPS X0, X1
	PAND X15, X1               // a = bits & 0x7fffffff
	MOVAPS X14, X2
	PSUBL X1, X2
	PSRAL $31, X2              // tail
	MOVAPS X10, X3
	PSUBL X1, X3
	PSRAL $31, X3              // nz
	MOVAPS X0, X4
	PSRAL $31, X4
	PAND X3, X4                // neg
	MOVUPS (R9)(AX*1), X5
	MULPS X13, X5              // 0.5*u
	MOVAPS X2, X6
	PANDN X5, X6               // h = 0.5*u &^ tail
	MOVUPS (R10)(AX*1), X7
	MOVAPS X2, X8
	PANDN X7, X8               // ei = e &^ tail
	MOVAPS X12, X9
	SUBPS X6, X9               // 1 - h
	MOVAPS X9, X5
	XORPS X6, X5
	ANDPS X4, X5
	XORPS X9, X5               // cdf
	MOVAPS X0, X1
	MULPS X5, X1
	MOVUPS X1, (DI)(AX*1)      // y = v*cdf
	MOVAPS X0, X2
	MULPS X11, X2
	MULPS X8, X2
	ADDPS X5, X2
	MOVUPS X2, (R8)(AX*1)      // dy = cdf + (v*c)*ei
	ADDQ $16, AX
	DECQ CX
	JNZ geluloop
	RET

// func relGradPair4(t float32, q, ra, k, rb, dx, dy *float32, n int)
// dx[i] += t*(k[i]+rb[i]); dy[i] += t*(q[i]+ra[i]), for i < n (relGrad4's
// operations on two of its four outputs).
TEXT ·relGradPair4(SB), NOSPLIT, $0-64
	MOVSS t+0(FP), X0
	SHUFPS $0, X0, X0
	MOVQ q+8(FP), SI
	MOVQ ra+16(FP), DI
	MOVQ k+24(FP), R8
	MOVQ rb+32(FP), R9
	MOVQ dx+40(FP), R10
	MOVQ dy+48(FP), R11
	MOVQ n+56(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
pairloop:
	MOVUPS (R8)(AX*1), X1
	MOVUPS (R9)(AX*1), X2
	ADDPS X2, X1
	MULPS X0, X1           // kb
	MOVUPS (SI)(AX*1), X3
	MOVUPS (DI)(AX*1), X4
	ADDPS X4, X3
	MULPS X0, X3           // qa
	MOVUPS (R10)(AX*1), X5
	ADDPS X1, X5
	MOVUPS X5, (R10)(AX*1)
	MOVUPS (R11)(AX*1), X7
	ADDPS X3, X7
	MOVUPS X7, (R11)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ pairloop
	RET

// func lnRowParts4(xh, dxh, x, gy, gain *float32, mean, rstd float32, n int)
// xh[i] = (x[i]-mean)*rstd; dxh[i] = gy[i]*gain[i] (lnBackRow4 without the
// dgain, dbias sums).
TEXT ·lnRowParts4(SB), NOSPLIT, $0-56
	MOVQ xh+0(FP), R8
	MOVQ dxh+8(FP), R9
	MOVQ x+16(FP), SI
	MOVQ gy+24(FP), DI
	MOVQ gain+32(FP), DX
	MOVSS mean+40(FP), X0
	SHUFPS $0, X0, X0
	MOVSS rstd+44(FP), X1
	SHUFPS $0, X1, X1
	MOVQ n+48(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
lnploop:
	MOVUPS (SI)(AX*1), X2
	SUBPS X0, X2
	MULPS X1, X2               // h
	MOVUPS X2, (R8)(AX*1)
	MOVUPS (DI)(AX*1), X3      // gy
	MOVUPS (DX)(AX*1), X6
	MULPS X6, X3               // gy*gain
	MOVUPS X3, (R9)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ lnploop
	RET

// func lnGainBias4(dgain, dbias, x, gy *float32, mean, rstd float32, n int)
// h = (x[i]-mean)*rstd; dgain[i] += gy[i]*h; dbias[i] += gy[i] (the rest of
// lnBackRow4).
TEXT ·lnGainBias4(SB), NOSPLIT, $0-48
	MOVQ dgain+0(FP), R10
	MOVQ dbias+8(FP), R11
	MOVQ x+16(FP), SI
	MOVQ gy+24(FP), DI
	MOVSS mean+32(FP), X0
	SHUFPS $0, X0, X0
	MOVSS rstd+36(FP), X1
	SHUFPS $0, X1, X1
	MOVQ n+40(FP), CX
	XORQ AX, AX
	SHRQ $2, CX
lngloop:
	MOVUPS (SI)(AX*1), X2
	SUBPS X0, X2
	MULPS X1, X2               // h
	MOVUPS (DI)(AX*1), X3      // gy
	MULPS X3, X2               // gy*h
	MOVUPS (R10)(AX*1), X4
	ADDPS X2, X4
	MOVUPS X4, (R10)(AX*1)
	MOVUPS (R11)(AX*1), X5
	ADDPS X3, X5
	MOVUPS X5, (R11)(AX*1)
	ADDQ $16, AX
	DECQ CX
	JNZ lngloop
	RET

// func axpy8(a float32, x, y *float32, n int)
// axpy4 eight lanes at a time (AVX; n > 0, a multiple of 8): the same
// product and sum per element, so the same bits.
TEXT ·axpy8(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Y0
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
axpy8loop:
	VMULPS (SI), Y0, Y1
	VADDPS (DI), Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ axpy8loop
	VZEROUPPER
	RET

// func relGrad8(t float32, q, ra, k, rb, dq, dk, dra, drb *float32, n int)
// relGrad4 eight lanes at a time (AVX; n > 0, a multiple of 8).
TEXT ·relGrad8(SB), NOSPLIT, $0-80
	VBROADCASTSS t+0(FP), Y0
	MOVQ q+8(FP), SI
	MOVQ ra+16(FP), DI
	MOVQ k+24(FP), R8
	MOVQ rb+32(FP), R9
	MOVQ dq+40(FP), R10
	MOVQ dk+48(FP), R11
	MOVQ dra+56(FP), R12
	MOVQ drb+64(FP), R13
	MOVQ n+72(FP), CX
	XORQ AX, AX
	SHRQ $3, CX
grad8loop:
	VMOVUPS (R8)(AX*1), Y1
	VADDPS (R9)(AX*1), Y1, Y1
	VMULPS Y0, Y1, Y1          // kb
	VMOVUPS (SI)(AX*1), Y3
	VADDPS (DI)(AX*1), Y3, Y3
	VMULPS Y0, Y3, Y3          // qa
	VADDPS (R10)(AX*1), Y1, Y5
	VMOVUPS Y5, (R10)(AX*1)
	VADDPS (R12)(AX*1), Y1, Y6
	VMOVUPS Y6, (R12)(AX*1)
	VADDPS (R11)(AX*1), Y3, Y7
	VMOVUPS Y7, (R11)(AX*1)
	VADDPS (R13)(AX*1), Y3, Y8
	VMOVUPS Y8, (R13)(AX*1)
	ADDQ $32, AX
	DECQ CX
	JNZ grad8loop
	VZEROUPPER
	RET
