//go:build amd64 && !purego

#include "textflag.h"

// func dotAVX2(k int, a, b *float32, acc *[8]float32)
//
// The thin-product kernel: a row of A against a row of B, k a positive multiple of 16, in two
// YMM chains (the even and the odd 8-float steps); acc receives their sum. B (the weights) is
// read once, in order, as one stream the hardware prefetchers follow; at one row of A that
// stream is the whole cost, and two chains keep up with it. (Four rows of B side by side, to
// share the A loads, doubled the speed on weights in L3 but read DRAM more slowly.)
TEXT ·dotAVX2(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R8
	MOVQ acc+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	XORQ AX, AX
	SHLQ $2, CX // bytes

loop:
	VMOVUPS (SI)(AX*1), Y8
	VMOVUPS 32(SI)(AX*1), Y9
	VFMADD231PS (R8)(AX*1), Y8, Y0
	VFMADD231PS 32(R8)(AX*1), Y9, Y4
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  loop

	VADDPS Y4, Y0, Y0
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET
