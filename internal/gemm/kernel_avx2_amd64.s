//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 + FMA micro-kernel: 6 rows × 16 columns. A is read with strides and B from a packed
// 16-wide panel, as in kernel_avx512_amd64.s (which explains the addressing and why C is
// prefetched). Accumulators: row r in Y(2r), Y(2r+1), Y0-Y11 (12 chains: two FMA units at
// latency 4 or 5 need 8 to 10). Y12, Y13 hold the B row; Y14, Y15 alternate as broadcast
// registers. Sixteen YMM registers are all AVX2 has.

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
	MOVQ DX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ BX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ BX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ BX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ BX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ BX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)

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
