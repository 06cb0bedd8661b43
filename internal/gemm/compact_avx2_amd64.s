//go:build amd64 && !purego

#include "textflag.h"
#include "compact_amd64.h"

// The AVX2 compact kernels: dot's order exactly (two YMM chains, the first taking elements
// 16s..16s+7 and the second 16s+8..16s+15, added, then SUM8), with the weights widened in
// registers. Registers as in the AVX-512 kernels; in the four-row forms Y0-Y3 are the first
// chains of rows 0-3 and Y4-Y7 the second, which leaves Y8-Y11 for the weights and sums.

#define YZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

#define YSTORE4 \
	VADDPS Y4, Y0, Y0; \
	VADDPS Y5, Y1, Y1; \
	VADDPS Y6, Y2, Y2; \
	VADDPS Y7, Y3, Y3; \
	SUM8(Y0, X0, X10); \
	SUM8(Y1, X1, X11); \
	SUM8(Y2, X2, X10); \
	SUM8(Y3, X3, X11); \
	VMOVSS X0, (DI); \
	VMOVSS X1, (DI)(R14*1); \
	VMOVSS X2, (DI)(R14*2); \
	VMOVSS X3, (DI)(R15*1); \
	ADDQ   $4, DI

// func dotsBF16AVX2x1(k int, a *float32, w *uint16, ldw, n int, c *float32)
TEXT ·dotsBF16AVX2x1(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ c+40(FP), DI
	SHLQ $1, CX
	SHLQ $1, R9

bf16row1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX

bf16loop1:
	VPMOVZXWD   (R8)(AX*1), Y8 // 8 halves widened to dwords
	VPMOVZXWD   16(R8)(AX*1), Y9
	VPSLLD      $16, Y8, Y8    // a bfloat16 is a float32's top half
	VPSLLD      $16, Y9, Y9
	VFMADD231PS (SI)(AX*2), Y8, Y0
	VFMADD231PS 32(SI)(AX*2), Y9, Y1
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         bf16loop1

	VADDPS Y1, Y0, Y0
	SUM8(Y0, X0, X1)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   R10
	JNZ    bf16row1
	VZEROUPPER
	RET

// func dotsInt8AVX2x1(k int, a *float32, w *int8, ldw, n int, c *float32)
TEXT ·dotsInt8AVX2x1(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ c+40(FP), DI

i8row1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX

i8loop1:
	VPMOVSXBD   (R8)(AX*1), Y8 // 8 bytes sign-extended to dwords
	VPMOVSXBD   8(R8)(AX*1), Y9
	VCVTDQ2PS   Y8, Y8
	VCVTDQ2PS   Y9, Y9
	VFMADD231PS (SI)(AX*4), Y8, Y0
	VFMADD231PS 32(SI)(AX*4), Y9, Y1
	ADDQ        $16, AX
	CMPQ        AX, CX
	JLT         i8loop1

	VADDPS Y1, Y0, Y0
	SUM8(Y0, X0, X1)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   R10
	JNZ    i8row1
	VZEROUPPER
	RET

// func dotsBF16AVX2x4(k int, a *float32, lda int, w *uint16, ldw, n int, c *float32, ldc int)
TEXT ·dotsBF16AVX2x4(SB), NOSPLIT, $0-64
	ROWS4_PROLOGUE
	SHLQ $1, CX
	SHLQ $1, R9

bf16row4:
	YZERO8
	XORQ AX, AX

bf16loop4:
	VPMOVZXWD   (R8)(AX*1), Y8
	VPMOVZXWD   16(R8)(AX*1), Y9
	VPSLLD      $16, Y8, Y8
	VPSLLD      $16, Y9, Y9
	VFMADD231PS (SI)(AX*2), Y8, Y0
	VFMADD231PS (R11)(AX*2), Y8, Y1
	VFMADD231PS (R12)(AX*2), Y8, Y2
	VFMADD231PS (R13)(AX*2), Y8, Y3
	VFMADD231PS 32(SI)(AX*2), Y9, Y4
	VFMADD231PS 32(R11)(AX*2), Y9, Y5
	VFMADD231PS 32(R12)(AX*2), Y9, Y6
	VFMADD231PS 32(R13)(AX*2), Y9, Y7
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         bf16loop4

	YSTORE4
	ADDQ R9, R8
	DECQ R10
	JNZ  bf16row4
	VZEROUPPER
	RET

// func dotsInt8AVX2x4(k int, a *float32, lda int, w *int8, ldw, n int, c *float32, ldc int)
TEXT ·dotsInt8AVX2x4(SB), NOSPLIT, $0-64
	ROWS4_PROLOGUE

i8row4:
	YZERO8
	XORQ AX, AX

i8loop4:
	VPMOVSXBD   (R8)(AX*1), Y8
	VPMOVSXBD   8(R8)(AX*1), Y9
	VCVTDQ2PS   Y8, Y8
	VCVTDQ2PS   Y9, Y9
	VFMADD231PS (SI)(AX*4), Y8, Y0
	VFMADD231PS (R11)(AX*4), Y8, Y1
	VFMADD231PS (R12)(AX*4), Y8, Y2
	VFMADD231PS (R13)(AX*4), Y8, Y3
	VFMADD231PS 32(SI)(AX*4), Y9, Y4
	VFMADD231PS 32(R11)(AX*4), Y9, Y5
	VFMADD231PS 32(R12)(AX*4), Y9, Y6
	VFMADD231PS 32(R13)(AX*4), Y9, Y7
	ADDQ        $16, AX
	CMPQ        AX, CX
	JLT         i8loop4

	YSTORE4
	ADDQ R9, R8
	DECQ R10
	JNZ  i8row4
	VZEROUPPER
	RET
