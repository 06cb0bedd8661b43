//go:build amd64 && !purego

#include "textflag.h"
#include "compact_amd64.h"

// The AVX-512 compact kernels. Each dot product runs in two ZMM chains, the first taking
// elements 32s..32s+15 and the second 32s+16..32s+31; at the end the chains are added and the
// 16 lanes summed (SUM16). The four-row forms load each block of weights once for four rows of
// A and compute every output exactly as the one-row forms do. Registers: SI a, R8 the weight
// row, R9 ldw in bytes, R10 rows left, DI c, CX the row's weight bytes, AX the offset in it.
// The one-row forms read one weight row at a time, a single stream that the hardware prefetchers
// follow: two rows side by side (four chains in flight) read DRAM more slowly on Zen 4, as for
// dotRowsAVX2.

// In the four-row forms Z0-Z3 are the first chains of rows 0-3, Z4-Z7 the second.

#define ZERO8 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7

#define STORE4 \
	VADDPS Z4, Z0, Z0; \
	VADDPS Z5, Z1, Z1; \
	VADDPS Z6, Z2, Z2; \
	VADDPS Z7, Z3, Z3; \
	SUM16(Z0, Y0, X0, Y10, X10); \
	SUM16(Z1, Y1, X1, Y11, X11); \
	SUM16(Z2, Y2, X2, Y10, X10); \
	SUM16(Z3, Y3, X3, Y11, X11); \
	VMOVSS X0, (DI); \
	VMOVSS X1, (DI)(R14*1); \
	VMOVSS X2, (DI)(R14*2); \
	VMOVSS X3, (DI)(R15*1); \
	ADDQ   $4, DI

// func dotsBF16AVX512x1(k int, a *float32, w *uint16, ldw, n int, c *float32)
TEXT ·dotsBF16AVX512x1(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ c+40(FP), DI
	SHLQ $1, CX
	SHLQ $1, R9

bf16row1:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ   AX, AX

bf16loop1:
	VPMOVZXWD   (R8)(AX*1), Z8 // 16 halves widened to dwords
	VPMOVZXWD   32(R8)(AX*1), Z9
	VPSLLD      $16, Z8, Z8    // a bfloat16 is a float32's top half
	VPSLLD      $16, Z9, Z9
	VFMADD231PS (SI)(AX*2), Z8, Z0
	VFMADD231PS 64(SI)(AX*2), Z9, Z1
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         bf16loop1

	VADDPS Z1, Z0, Z0
	SUM16(Z0, Y0, X0, Y1, X1)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   R10
	JNZ    bf16row1
	VZEROUPPER
	RET

// func dotsInt8AVX512x1(k int, a *float32, w *int8, ldw, n int, c *float32)
TEXT ·dotsInt8AVX512x1(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ ldw+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ c+40(FP), DI

i8row1:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ   AX, AX

i8loop1:
	VPMOVSXBD   (R8)(AX*1), Z8 // 16 bytes sign-extended to dwords
	VPMOVSXBD   16(R8)(AX*1), Z9
	VCVTDQ2PS   Z8, Z8
	VCVTDQ2PS   Z9, Z9
	VFMADD231PS (SI)(AX*4), Z8, Z0
	VFMADD231PS 64(SI)(AX*4), Z9, Z1
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         i8loop1

	VADDPS Z1, Z0, Z0
	SUM16(Z0, Y0, X0, Y1, X1)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   R10
	JNZ    i8row1
	VZEROUPPER
	RET

// func dotsBF16AVX512x4(k int, a *float32, lda int, w *uint16, ldw, n int, c *float32, ldc int)
TEXT ·dotsBF16AVX512x4(SB), NOSPLIT, $0-64
	ROWS4_PROLOGUE
	SHLQ $1, CX
	SHLQ $1, R9

bf16row4:
	ZERO8
	XORQ AX, AX

bf16loop4:
	VPMOVZXWD   (R8)(AX*1), Z8
	VPMOVZXWD   32(R8)(AX*1), Z9
	VPSLLD      $16, Z8, Z8
	VPSLLD      $16, Z9, Z9
	VFMADD231PS (SI)(AX*2), Z8, Z0
	VFMADD231PS (R11)(AX*2), Z8, Z1
	VFMADD231PS (R12)(AX*2), Z8, Z2
	VFMADD231PS (R13)(AX*2), Z8, Z3
	VFMADD231PS 64(SI)(AX*2), Z9, Z4
	VFMADD231PS 64(R11)(AX*2), Z9, Z5
	VFMADD231PS 64(R12)(AX*2), Z9, Z6
	VFMADD231PS 64(R13)(AX*2), Z9, Z7
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         bf16loop4

	STORE4
	ADDQ R9, R8
	DECQ R10
	JNZ  bf16row4
	VZEROUPPER
	RET

// func dotsInt8AVX512x4(k int, a *float32, lda int, w *int8, ldw, n int, c *float32, ldc int)
TEXT ·dotsInt8AVX512x4(SB), NOSPLIT, $0-64
	ROWS4_PROLOGUE

i8row4:
	ZERO8
	XORQ AX, AX

i8loop4:
	VPMOVSXBD   (R8)(AX*1), Z8
	VPMOVSXBD   16(R8)(AX*1), Z9
	VCVTDQ2PS   Z8, Z8
	VCVTDQ2PS   Z9, Z9
	VFMADD231PS (SI)(AX*4), Z8, Z0
	VFMADD231PS (R11)(AX*4), Z8, Z1
	VFMADD231PS (R12)(AX*4), Z8, Z2
	VFMADD231PS (R13)(AX*4), Z8, Z3
	VFMADD231PS 64(SI)(AX*4), Z9, Z4
	VFMADD231PS 64(R11)(AX*4), Z9, Z5
	VFMADD231PS 64(R12)(AX*4), Z9, Z6
	VFMADD231PS 64(R13)(AX*4), Z9, Z7
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         i8loop4

	STORE4
	ADDQ R9, R8
	DECQ R10
	JNZ  i8row4
	VZEROUPPER
	RET
