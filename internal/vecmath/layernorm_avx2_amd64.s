//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// The LayerNorm kernels of layernorm_amd64.s for AVX2: 32 elements per
// iteration, then 8, then a VMASKMOVPS tail. The broadcast scalars sit in
// Y9-Y11 (Y8 holds the tail mask).

// func subScaleAVX2(dst, src *float32, n int, shift, scale float32)
TEXT ·subScaleAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y9
	VBROADCASTSS scale+28(FP), Y10
	CMPQ CX, $32
	JB   one

four:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VSUBPS  Y9, Y0, Y0
	VSUBPS  Y9, Y1, Y1
	VSUBPS  Y9, Y2, Y2
	VSUBPS  Y9, Y3, Y3
	VMULPS  Y10, Y0, Y0
	VMULPS  Y10, Y1, Y1
	VMULPS  Y10, Y2, Y2
	VMULPS  Y10, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMOVUPS (SI), Y0
	VSUBPS  Y9, Y0, Y0
	VMULPS  Y10, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VSUBPS     Y9, Y0, Y0
	VMULPS     Y10, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// func scaleMulAVX2(dst, src, w *float32, n int, s float32)
// dst = (src·s)·w: ScaleMulAdd without a bias.
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS s+32(FP), Y9
	CMPQ CX, $32
	JB   one

four:
	VMULPS  (SI), Y9, Y0
	VMULPS  32(SI), Y9, Y1
	VMULPS  64(SI), Y9, Y2
	VMULPS  96(SI), Y9, Y3
	VMULPS  (DX), Y0, Y0
	VMULPS  32(DX), Y1, Y1
	VMULPS  64(DX), Y2, Y2
	VMULPS  96(DX), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMULPS  (SI), Y9, Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMASKMOVPS (DX), Y8, Y1
	VMULPS     Y0, Y9, Y0
	VMULPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// func scaleMulAddAVX2(dst, src, w, b *float32, n int, s float32)
// dst = (src·s)·w + b, each operation rounded (no FMA).
TEXT ·scaleMulAddAVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ b+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS s+40(FP), Y9
	CMPQ CX, $32
	JB   one

four:
	VMULPS  (SI), Y9, Y0
	VMULPS  32(SI), Y9, Y1
	VMULPS  64(SI), Y9, Y2
	VMULPS  96(SI), Y9, Y3
	VMULPS  (DX), Y0, Y0
	VMULPS  32(DX), Y1, Y1
	VMULPS  64(DX), Y2, Y2
	VMULPS  96(DX), Y3, Y3
	VADDPS  (R8), Y0, Y0
	VADDPS  32(R8), Y1, Y1
	VADDPS  64(R8), Y2, Y2
	VADDPS  96(R8), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, R8
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMULPS  (SI), Y9, Y0
	VMULPS  (DX), Y0, Y0
	VADDPS  (R8), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMASKMOVPS (DX), Y8, Y1
	VMASKMOVPS (R8), Y8, Y2
	VMULPS     Y0, Y9, Y0
	VMULPS     Y1, Y0, Y0
	VADDPS     Y2, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// func layerNormGradAVX2(dst, gw, nrm *float32, n int, rs, meanG, meanGN float32)
// dst = rs·((gw − meanG) − nrm·meanGN), each operation rounded (no FMA).
TEXT ·layerNormGradAVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ gw+8(FP), SI
	MOVQ nrm+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS rs+32(FP), Y9
	VBROADCASTSS meanG+36(FP), Y10
	VBROADCASTSS meanGN+40(FP), Y11
	CMPQ CX, $32
	JB   one

four:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VSUBPS  Y10, Y0, Y0
	VSUBPS  Y10, Y1, Y1
	VSUBPS  Y10, Y2, Y2
	VSUBPS  Y10, Y3, Y3
	VMULPS  (DX), Y11, Y4
	VMULPS  32(DX), Y11, Y5
	VMULPS  64(DX), Y11, Y6
	VMULPS  96(DX), Y11, Y7
	VSUBPS  Y4, Y0, Y0
	VSUBPS  Y5, Y1, Y1
	VSUBPS  Y6, Y2, Y2
	VSUBPS  Y7, Y3, Y3
	VMULPS  Y9, Y0, Y0
	VMULPS  Y9, Y1, Y1
	VMULPS  Y9, Y2, Y2
	VMULPS  Y9, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMOVUPS (SI), Y0
	VSUBPS  Y10, Y0, Y0
	VMULPS  (DX), Y11, Y4
	VSUBPS  Y4, Y0, Y0
	VMULPS  Y9, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMASKMOVPS (DX), Y8, Y4
	VSUBPS     Y10, Y0, Y0
	VMULPS     Y11, Y4, Y4
	VSUBPS     Y4, Y0, Y0
	VMULPS     Y9, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// func layerNormParamGradAVX2(dw, db, dy, nrm *float32, n int)
// dw += dy·nrm (the product rounded first) and db += dy.
TEXT ·layerNormParamGradAVX2(SB), NOSPLIT, $0-40
	MOVQ dw+0(FP), DI
	MOVQ db+8(FP), R8
	MOVQ dy+16(FP), SI
	MOVQ nrm+24(FP), DX
	MOVQ n+32(FP), CX
	CMPQ CX, $32
	JB   one

four:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMULPS  (DX), Y0, Y4
	VMULPS  32(DX), Y1, Y5
	VMULPS  64(DX), Y2, Y6
	VMULPS  96(DX), Y3, Y7
	VADDPS  (DI), Y4, Y4
	VADDPS  32(DI), Y5, Y5
	VADDPS  64(DI), Y6, Y6
	VADDPS  96(DI), Y7, Y7
	VADDPS  (R8), Y0, Y0
	VADDPS  32(R8), Y1, Y1
	VADDPS  64(R8), Y2, Y2
	VADDPS  96(R8), Y3, Y3
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	VMOVUPS Y6, 64(DI)
	VMOVUPS Y7, 96(DI)
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, 32(R8)
	VMOVUPS Y2, 64(R8)
	VMOVUPS Y3, 96(R8)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	ADDQ    $128, R8
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y4
	VADDPS  (DI), Y4, Y4
	VADDPS  (R8), Y0, Y0
	VMOVUPS Y4, (DI)
	VMOVUPS Y0, (R8)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	ADDQ    $32, R8
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMASKMOVPS (DX), Y8, Y1
	VMASKMOVPS (DI), Y8, Y2
	VMASKMOVPS (R8), Y8, Y3
	VMULPS     Y1, Y0, Y1
	VADDPS     Y2, Y1, Y1
	VADDPS     Y3, Y0, Y0
	VMASKMOVPS Y1, Y8, (DI)
	VMASKMOVPS Y0, Y8, (R8)

done:
	VZEROUPPER
	RET
