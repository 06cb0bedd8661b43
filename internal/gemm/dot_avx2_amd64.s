//go:build amd64 && !purego

#include "textflag.h"

// func dotRowsAVX2(k int, a, b *float32, ldb, n int, c *float32)
//
// The thin-product kernel: c[j] = the dot product of a row of A with row j of B (at b+j*ldb),
// for j < n, over k elements, k a positive multiple of 16. Each dot product runs in two YMM
// chains (the even and the odd 8-float steps) whose lanes are then added in dot's fixed order:
// ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)). B (the weights) is read once, in order, one stream
// the hardware prefetchers follow; at one row of A that stream is the whole cost. (Four rows of
// B side by side, to share the A loads, doubled the speed on weights in L3 but read DRAM more
// slowly.)
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R8
	MOVQ ldb+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ c+40(FP), DI
	SHLQ $2, CX // bytes
	SHLQ $2, R9
	TESTQ R10, R10
	JLE  done

row:
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	XORQ AX, AX

loop:
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS 32(SI)(AX*1), Y9
	VFMADD231PS (R8)(AX*1), Y8, Y0
	VFMADD231PS 32(R8)(AX*1), Y9, Y4
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  loop

	VADDPS       Y4, Y0, Y0  // lanes l0..l7
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0  // l0+l4, l1+l5, l2+l6, l3+l7
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0  // (l0+l4)+(l2+l6), (l1+l5)+(l3+l7)
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, (DI)
	ADDQ         $4, DI
	ADDQ         R9, R8
	DECQ         R10
	JNZ          row

done:
	VZEROUPPER
	RET

// REDUCE leaves in the low float of X(acc) its 8 lanes added in dot's order; tmp is clobbered.
#define REDUCE(acc, xacc, xtmp) \
	VEXTRACTF128 $1, acc, xtmp; \
	VADDPS       xtmp, xacc, xacc; \
	VMOVHLPS     xacc, xacc, xtmp; \
	VADDPS       xtmp, xacc, xacc; \
	VMOVSHDUP    xacc, xtmp; \
	VADDSS       xtmp, xacc, xacc

// func dotRows4AVX2(k int, a *float32, lda int, b *float32, ldb, n int, c *float32, ldc int)
//
// dotRowsAVX2 for four rows of A at once (row r at a+r*lda, its outputs at c+r*ldc): each row
// of B is loaded once for the four, and each output is computed exactly as dotRowsAVX2 does
// (the same two chains, the same lane order), so the grouping never changes a bit. Eight
// chains in flight keep two FMA units busy; A's rows come from L1.
TEXT ·dotRows4AVX2(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ b+24(FP), R8
	MOVQ ldb+32(FP), R9
	MOVQ n+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R14
	SHLQ $2, CX
	SHLQ $2, DX
	SHLQ $2, R9
	SHLQ $2, R14
	LEAQ (SI)(DX*1), R11
	LEAQ (R11)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	LEAQ (R14)(R14*2), R15
	TESTQ R10, R10
	JLE  done4

row4:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX

loop4:
	VMOVUPS (R8)(AX*1), Y8
	VMOVUPS 32(R8)(AX*1), Y9
	VFMADD231PS (SI)(AX*1), Y8, Y0
	VFMADD231PS (R11)(AX*1), Y8, Y1
	VFMADD231PS (R12)(AX*1), Y8, Y2
	VFMADD231PS (R13)(AX*1), Y8, Y3
	VFMADD231PS 32(SI)(AX*1), Y9, Y4
	VFMADD231PS 32(R11)(AX*1), Y9, Y5
	VFMADD231PS 32(R12)(AX*1), Y9, Y6
	VFMADD231PS 32(R13)(AX*1), Y9, Y7
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  loop4

	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	REDUCE(Y0, X0, X10)
	REDUCE(Y1, X1, X11)
	REDUCE(Y2, X2, X10)
	REDUCE(Y3, X3, X11)
	VMOVSS X0, (DI)
	VMOVSS X1, (DI)(R14*1)
	VMOVSS X2, (DI)(R14*2)
	VMOVSS X3, (DI)(R15*1)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   R10
	JNZ    row4

done4:
	VZEROUPPER
	RET
