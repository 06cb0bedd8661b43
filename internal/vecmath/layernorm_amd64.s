//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// LayerNorm's fused element-wise kernels, laid out as elementwise_amd64.s:
// 64 elements (four ZMM) per iteration, then one vector at a time, then a
// masked tail. Each operation rounds on its own (no fused multiply-add), so
// the results equal the Go kernels' (generic.go) bit for bit.

// func subScaleAVX512(dst, src *float32, n int, shift, scale float32)
TEXT ·subScaleAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Z8
	VBROADCASTSS scale+28(FP), Z9
	CMPQ CX, $64
	JB   subscale_one

subscale_four:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VSUBPS  Z8, Z0, Z0
	VSUBPS  Z8, Z1, Z1
	VSUBPS  Z8, Z2, Z2
	VSUBPS  Z8, Z3, Z3
	VMULPS  Z9, Z0, Z0
	VMULPS  Z9, Z1, Z1
	VMULPS  Z9, Z2, Z2
	VMULPS  Z9, Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     subscale_four

subscale_one:
	CMPQ    CX, $16
	JB      subscale_tail
	VMOVUPS (SI), Z0
	VSUBPS  Z8, Z0, Z0
	VMULPS  Z9, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     subscale_one

subscale_tail:
	TESTQ CX, CX
	JZ    subscale_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS    Z8, Z0, Z0
	VMULPS    Z9, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

subscale_done:
	VZEROUPPER
	RET

// func scaleMulAVX512(dst, src, w *float32, n int, s float32)
// dst = (src·s)·w: ScaleMulAdd without a bias.
TEXT ·scaleMulAVX512(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Z8
	CMPQ CX, $64
	JB   scalemul_one

scalemul_four:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VMULPS  (DX), Z0, Z0
	VMULPS  64(DX), Z1, Z1
	VMULPS  128(DX), Z2, Z2
	VMULPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     scalemul_four

scalemul_one:
	CMPQ    CX, $16
	JB      scalemul_tail
	VMULPS  (SI), Z8, Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     scalemul_one

scalemul_tail:
	TESTQ CX, CX
	JZ    scalemul_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS    Z0, Z8, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

scalemul_done:
	VZEROUPPER
	RET

// func scaleMulAddAVX512(dst, src, w, b *float32, n int, s float32)
// dst = (src·s)·w + b, each operation rounded (no FMA).
TEXT ·scaleMulAddAVX512(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ b+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS s+40(FP), Z8
	CMPQ CX, $64
	JB   scalemuladd_one

scalemuladd_four:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VMULPS  (DX), Z0, Z0
	VMULPS  64(DX), Z1, Z1
	VMULPS  128(DX), Z2, Z2
	VMULPS  192(DX), Z3, Z3
	VADDPS  (R8), Z0, Z0
	VADDPS  64(R8), Z1, Z1
	VADDPS  128(R8), Z2, Z2
	VADDPS  192(R8), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, R8
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     scalemuladd_four

scalemuladd_one:
	CMPQ    CX, $16
	JB      scalemuladd_tail
	VMULPS  (SI), Z8, Z0
	VMULPS  (DX), Z0, Z0
	VADDPS  (R8), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     scalemuladd_one

scalemuladd_tail:
	TESTQ CX, CX
	JZ    scalemuladd_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMOVUPS.Z (R8), K1, Z2
	VMULPS    Z0, Z8, Z0
	VMULPS    Z1, Z0, Z0
	VADDPS    Z2, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

scalemuladd_done:
	VZEROUPPER
	RET

// func layerNormGradAVX512(dst, gw, nrm *float32, n int, rs, meanG, meanGN float32)
// dst = rs·((gw − meanG) − nrm·meanGN), each operation rounded (no FMA).
TEXT ·layerNormGradAVX512(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ gw+8(FP), SI
	MOVQ nrm+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS rs+32(FP), Z8
	VBROADCASTSS meanG+36(FP), Z9
	VBROADCASTSS meanGN+40(FP), Z10
	CMPQ CX, $64
	JB   lngrad_one

lngrad_four:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VSUBPS  Z9, Z0, Z0
	VSUBPS  Z9, Z1, Z1
	VSUBPS  Z9, Z2, Z2
	VSUBPS  Z9, Z3, Z3
	VMULPS  (DX), Z10, Z4
	VMULPS  64(DX), Z10, Z5
	VMULPS  128(DX), Z10, Z6
	VMULPS  192(DX), Z10, Z7
	VSUBPS  Z4, Z0, Z0
	VSUBPS  Z5, Z1, Z1
	VSUBPS  Z6, Z2, Z2
	VSUBPS  Z7, Z3, Z3
	VMULPS  Z8, Z0, Z0
	VMULPS  Z8, Z1, Z1
	VMULPS  Z8, Z2, Z2
	VMULPS  Z8, Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     lngrad_four

lngrad_one:
	CMPQ    CX, $16
	JB      lngrad_tail
	VMOVUPS (SI), Z0
	VSUBPS  Z9, Z0, Z0
	VMULPS  (DX), Z10, Z4
	VSUBPS  Z4, Z0, Z0
	VMULPS  Z8, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     lngrad_one

lngrad_tail:
	TESTQ CX, CX
	JZ    lngrad_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z4
	VSUBPS    Z9, Z0, Z0
	VMULPS    Z10, Z4, Z4
	VSUBPS    Z4, Z0, Z0
	VMULPS    Z8, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

lngrad_done:
	VZEROUPPER
	RET

// func layerNormParamGradAVX512(dw, db, dy, nrm *float32, n int)
// dw += dy·nrm (the product rounded first) and db += dy.
TEXT ·layerNormParamGradAVX512(SB), NOSPLIT, $0-40
	MOVQ dw+0(FP), DI
	MOVQ db+8(FP), R8
	MOVQ dy+16(FP), SI
	MOVQ nrm+24(FP), DX
	MOVQ n+32(FP), CX
	CMPQ CX, $64
	JB   lnparam_one

lnparam_four:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VMULPS  (DX), Z0, Z4
	VMULPS  64(DX), Z1, Z5
	VMULPS  128(DX), Z2, Z6
	VMULPS  192(DX), Z3, Z7
	VADDPS  (DI), Z4, Z4
	VADDPS  64(DI), Z5, Z5
	VADDPS  128(DI), Z6, Z6
	VADDPS  192(DI), Z7, Z7
	VADDPS  (R8), Z0, Z0
	VADDPS  64(R8), Z1, Z1
	VADDPS  128(R8), Z2, Z2
	VADDPS  192(R8), Z3, Z3
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	VMOVUPS Z6, 128(DI)
	VMOVUPS Z7, 192(DI)
	VMOVUPS Z0, (R8)
	VMOVUPS Z1, 64(R8)
	VMOVUPS Z2, 128(R8)
	VMOVUPS Z3, 192(R8)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	ADDQ    $256, R8
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     lnparam_four

lnparam_one:
	CMPQ    CX, $16
	JB      lnparam_tail
	VMOVUPS (SI), Z0
	VMULPS  (DX), Z0, Z4
	VADDPS  (DI), Z4, Z4
	VADDPS  (R8), Z0, Z0
	VMOVUPS Z4, (DI)
	VMOVUPS Z0, (R8)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	ADDQ    $64, R8
	SUBQ    $16, CX
	JMP     lnparam_one

lnparam_tail:
	TESTQ CX, CX
	JZ    lnparam_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z (R8), K1, Z3
	VMULPS    Z1, Z0, Z1
	VADDPS    Z2, Z1, Z1
	VADDPS    Z3, Z0, Z0
	VMOVUPS   Z1, K1, (DI)
	VMOVUPS   Z0, K1, (R8)

lnparam_done:
	VZEROUPPER
	RET
