//go:build amd64 && !purego

#include "textflag.h"

// func adamwAVX2(p, grad, m, v *float32, n int, c *adamwConsts)
//
// Per 8 elements, in the order and rounding of adamwGo:
//   new p = p·decayMul − stepSize·(new m / (√(new v) / bc2Sqrt + eps))
//   new m = m + w1·(g − m)
//   new v = v·beta2 + (w2·g)·g
TEXT ·adamwAVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // decayMul
	VBROADCASTSS 4(AX), Y9   // w1
	VBROADCASTSS 8(AX), Y10  // beta2
	VBROADCASTSS 12(AX), Y11 // w2
	VBROADCASTSS 16(AX), Y12 // bc2Sqrt
	VBROADCASTSS 20(AX), Y13 // eps
	VBROADCASTSS 24(AX), Y14 // stepSize

loop:
	VMOVUPS (SI), Y0       // g
	VMOVUPS (DX), Y2       // m
	VMULPS  (DI), Y8, Y1   // p·decayMul
	VSUBPS  Y2, Y0, Y3     // g − m
	VMULPS  Y3, Y9, Y3     // w1·(g − m)
	VADDPS  Y3, Y2, Y2     // new m
	VMULPS  (R8), Y10, Y4  // v·beta2
	VMULPS  Y0, Y11, Y5    // w2·g
	VMULPS  Y0, Y5, Y5     // (w2·g)·g
	VADDPS  Y5, Y4, Y4     // new v
	VSQRTPS Y4, Y6         // √(new v)
	VDIVPS  Y12, Y6, Y6    // √(new v) / bc2Sqrt
	VADDPS  Y13, Y6, Y6    // denominator
	VDIVPS  Y6, Y2, Y7     // new m / denominator
	VMULPS  Y7, Y14, Y7    // stepSize·(new m / denominator)
	VSUBPS  Y7, Y1, Y1     // new p
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, (DX)
	VMOVUPS Y4, (R8)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	SUBQ    $8, CX
	JNZ     loop
	VZEROUPPER
	RET
