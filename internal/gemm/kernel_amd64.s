//go:build amd64 && !purego

#include "textflag.h"

// Micro-kernels. B is a packed panel (see pack.go) of nr floats per k step;
// A is read with strides (the strided-A variants below), which covers both a
// packed A panel and op(A) read in place. The accumulators start at zero and sum
// k in order, so every output element is computed the same way whether it is
// in an interior or an edge tile.

// ---- AVX-512: 8 rows × 32 columns ----
// Accumulators: row r in Z(2r) (columns 0-15) and Z(2r+1) (16-31).
// Z16, Z17 hold the B row; Z18-Z25 the broadcast A values.

#define FMA2_512(bc, acc0, acc1) \
	VFMADD231PS Z16, bc, acc0; \
	VFMADD231PS Z17, bc, acc1

// Row r of C (DX) += / = its accumulators, then advance DX by ldc (BX bytes).
#define ADDROW512(acc0, acc1) \
	VADDPS (DX), acc0, acc0; \
	VADDPS 64(DX), acc1, acc1; \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 64(DX); \
	ADDQ BX, DX

#define SETROW512(acc0, acc1) \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 64(DX); \
	ADDQ BX, DX

// ---- AVX2 + FMA: 6 rows × 16 columns ----
// Accumulators: row r in Y(2r), Y(2r+1). Y12, Y13 hold the B row; Y14, Y15
// alternate as broadcast registers.

#define FMA2_256(bc, acc0, acc1) \
	VFMADD231PS Y12, bc, acc0; \
	VFMADD231PS Y13, bc, acc1

#define ADDROW256(acc0, acc1) \
	VADDPS (DX), acc0, acc0; \
	VADDPS 32(DX), acc1, acc1; \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 32(DX); \
	ADDQ BX, DX

#define SETROW256(acc0, acc1) \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 32(DX); \
	ADDQ BX, DX

// ---- AVX-512 narrow variant: 8 rows × 16 columns ----
// Used for the last column panel when at most 16 of its 32 columns are
// real (e.g. n = 65): it reads the same 32-wide packed B panel but only its
// first 16 columns, halving the work spent on padding.

#define ADDROW512N(acc) \
	VADDPS (DX), acc, acc; \
	VMOVUPS acc, (DX); \
	ADDQ BX, DX

#define SETROW512N(acc) \
	VMOVUPS acc, (DX); \
	ADDQ BX, DX

// ---- The kernels, reading A with strides ----
// Element (i, p) of the tile's A panel is at a + 4·(i·rsa + p·csa) bytes.
// Packed panels are rsa = 1, csa = mr; a row-major A read directly is
// rsa = lda, csa = 1; a transposed A is rsa = 1, csa = lda. Each accumulator
// sums its k products in order, so every layout gives the same bits.
// Rows 0-3 are read at SI + {0, 1, 2, 3}·R9, rows 4-7 at R11 = SI + 4·R9
// (R9 = rsa bytes, R10 = 3·rsa bytes); both advance by R12 = csa bytes.

#define STEP512S(bo) \
	VMOVUPS (bo)(DI), Z16; \
	VMOVUPS (bo+64)(DI), Z17; \
	VBROADCASTSS (SI), Z18; \
	VBROADCASTSS (SI)(R9*1), Z19; \
	VBROADCASTSS (SI)(R9*2), Z20; \
	VBROADCASTSS (SI)(R10*1), Z21; \
	FMA2_512(Z18, Z0, Z1); \
	FMA2_512(Z19, Z2, Z3); \
	VBROADCASTSS (R11), Z22; \
	VBROADCASTSS (R11)(R9*1), Z23; \
	FMA2_512(Z20, Z4, Z5); \
	FMA2_512(Z21, Z6, Z7); \
	VBROADCASTSS (R11)(R9*2), Z24; \
	VBROADCASTSS (R11)(R10*1), Z25; \
	ADDQ R12, SI; \
	ADDQ R12, R11; \
	FMA2_512(Z22, Z8, Z9); \
	FMA2_512(Z23, Z10, Z11); \
	FMA2_512(Z24, Z12, Z13); \
	FMA2_512(Z25, Z14, Z15)

// func kernel8x32AVX512S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)
TEXT ·kernel8x32AVX512S(SB), NOSPLIT, $0-57
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), BX
	SHLQ $2, BX
	SHLQ $2, R9
	SHLQ $2, R12
	LEAQ (R9)(R9*2), R10
	LEAQ (SI)(R9*4), R11

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ CX, R8
	SHRQ $2, R8
	ANDQ $3, CX
	TESTQ R8, R8
	JZ   tail512s

loop512s:
	STEP512S(0)
	STEP512S(128)
	STEP512S(256)
	STEP512S(384)
	ADDQ $512, DI
	DECQ R8
	JNZ  loop512s

tail512s:
	TESTQ CX, CX
	JZ    store512s

loop512stail:
	STEP512S(0)
	ADDQ $128, DI
	DECQ CX
	JNZ  loop512stail

store512s:
	MOVBLZX accumulate+56(FP), AX
	TESTQ   AX, AX
	JZ      set512s
	ADDROW512(Z0, Z1)
	ADDROW512(Z2, Z3)
	ADDROW512(Z4, Z5)
	ADDROW512(Z6, Z7)
	ADDROW512(Z8, Z9)
	ADDROW512(Z10, Z11)
	ADDROW512(Z12, Z13)
	ADDROW512(Z14, Z15)
	VZEROUPPER
	RET

set512s:
	SETROW512(Z0, Z1)
	SETROW512(Z2, Z3)
	SETROW512(Z4, Z5)
	SETROW512(Z6, Z7)
	SETROW512(Z8, Z9)
	SETROW512(Z10, Z11)
	SETROW512(Z12, Z13)
	SETROW512(Z14, Z15)
	VZEROUPPER
	RET

#define STEP512NS(bo) \
	VMOVUPS (bo)(DI), Z16; \
	VBROADCASTSS (SI), Z18; \
	VBROADCASTSS (SI)(R9*1), Z19; \
	VBROADCASTSS (SI)(R9*2), Z20; \
	VBROADCASTSS (SI)(R10*1), Z21; \
	VFMADD231PS Z16, Z18, Z0; \
	VFMADD231PS Z16, Z19, Z1; \
	VFMADD231PS Z16, Z20, Z2; \
	VFMADD231PS Z16, Z21, Z3; \
	VBROADCASTSS (R11), Z22; \
	VBROADCASTSS (R11)(R9*1), Z23; \
	VBROADCASTSS (R11)(R9*2), Z24; \
	VBROADCASTSS (R11)(R10*1), Z25; \
	ADDQ R12, SI; \
	ADDQ R12, R11; \
	VFMADD231PS Z16, Z22, Z4; \
	VFMADD231PS Z16, Z23, Z5; \
	VFMADD231PS Z16, Z24, Z6; \
	VFMADD231PS Z16, Z25, Z7

// func kernel8x16AVX512S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)
TEXT ·kernel8x16AVX512S(SB), NOSPLIT, $0-57
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), BX
	SHLQ $2, BX
	SHLQ $2, R9
	SHLQ $2, R12
	LEAQ (R9)(R9*2), R10
	LEAQ (SI)(R9*4), R11

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	MOVQ CX, R8
	SHRQ $2, R8
	ANDQ $3, CX
	TESTQ R8, R8
	JZ   tail512ns

loop512ns:
	STEP512NS(0)
	STEP512NS(128)
	STEP512NS(256)
	STEP512NS(384)
	ADDQ $512, DI
	DECQ R8
	JNZ  loop512ns

tail512ns:
	TESTQ CX, CX
	JZ    store512ns

loop512nstail:
	STEP512NS(0)
	ADDQ $128, DI
	DECQ CX
	JNZ  loop512nstail

store512ns:
	MOVBLZX accumulate+56(FP), AX
	TESTQ   AX, AX
	JZ      set512ns
	ADDROW512N(Z0)
	ADDROW512N(Z1)
	ADDROW512N(Z2)
	ADDROW512N(Z3)
	ADDROW512N(Z4)
	ADDROW512N(Z5)
	ADDROW512N(Z6)
	ADDROW512N(Z7)
	VZEROUPPER
	RET

set512ns:
	SETROW512N(Z0)
	SETROW512N(Z1)
	SETROW512N(Z2)
	SETROW512N(Z3)
	SETROW512N(Z4)
	SETROW512N(Z5)
	SETROW512N(Z6)
	SETROW512N(Z7)
	VZEROUPPER
	RET

#define STEP256S(bo) \
	VMOVUPS (bo)(DI), Y12; \
	VMOVUPS (bo+32)(DI), Y13; \
	VBROADCASTSS (SI), Y14; \
	VBROADCASTSS (SI)(R9*1), Y15; \
	FMA2_256(Y14, Y0, Y1); \
	FMA2_256(Y15, Y2, Y3); \
	VBROADCASTSS (SI)(R9*2), Y14; \
	VBROADCASTSS (SI)(R10*1), Y15; \
	FMA2_256(Y14, Y4, Y5); \
	FMA2_256(Y15, Y6, Y7); \
	VBROADCASTSS (R11), Y14; \
	VBROADCASTSS (R11)(R9*1), Y15; \
	ADDQ R12, SI; \
	ADDQ R12, R11; \
	FMA2_256(Y14, Y8, Y9); \
	FMA2_256(Y15, Y10, Y11)

// func kernel6x16AVX2S(k int, a *float32, rsa, csa int, b, c *float32, ldc int, accumulate bool)
TEXT ·kernel6x16AVX2S(SB), NOSPLIT, $0-57
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsa+16(FP), R9
	MOVQ csa+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), BX
	SHLQ $2, BX
	SHLQ $2, R9
	SHLQ $2, R12
	LEAQ (R9)(R9*2), R10
	LEAQ (SI)(R9*4), R11

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, R8
	SHRQ $2, R8
	ANDQ $3, CX
	TESTQ R8, R8
	JZ   tail256s

loop256s:
	STEP256S(0)
	STEP256S(64)
	STEP256S(128)
	STEP256S(192)
	ADDQ $256, DI
	DECQ R8
	JNZ  loop256s

tail256s:
	TESTQ CX, CX
	JZ    store256s

loop256stail:
	STEP256S(0)
	ADDQ $64, DI
	DECQ CX
	JNZ  loop256stail

store256s:
	MOVBLZX accumulate+56(FP), AX
	TESTQ   AX, AX
	JZ      set256s
	ADDROW256(Y0, Y1)
	ADDROW256(Y2, Y3)
	ADDROW256(Y4, Y5)
	ADDROW256(Y6, Y7)
	ADDROW256(Y8, Y9)
	ADDROW256(Y10, Y11)
	VZEROUPPER
	RET

set256s:
	SETROW256(Y0, Y1)
	SETROW256(Y2, Y3)
	SETROW256(Y4, Y5)
	SETROW256(Y6, Y7)
	SETROW256(Y8, Y9)
	SETROW256(Y10, Y11)
	VZEROUPPER
	RET
