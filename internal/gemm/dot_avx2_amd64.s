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
