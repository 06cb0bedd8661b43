//go:build amd64 && !purego

#include "textflag.h"

// int8 dot products on VPDPBUSD (AVX512-VNNI): each instruction multiplies 64 unsigned bytes
// (activations, offset by 128) by 64 signed bytes (weights) and adds each group of four
// products to one of 16 int32 lanes, exactly: the sums are integers, so their order does not
// matter and every kernel gives the same result as the Go reference.

// REDUCE adds the 16 int32 lanes of acc (Z register, with its Y and X views) and stores the
// sum at dst, using Z9 as scratch.
#define REDUCE(accZ, accY, accX, dst) \
	VEXTRACTI64X4 $1, accZ, Y9; \
	VPADDD Y9, accY, accY; \
	VEXTRACTI128 $1, accY, X9; \
	VPADDD X9, accX, accX; \
	VPSHUFD $0x4E, accX, X9; \
	VPADDD X9, accX, accX; \
	VPSHUFD $0xB1, accX, X9; \
	VPADDD X9, accX, accX; \
	VMOVD accX, dst

// func dotsInt8VNNIx4(k int, a *uint8, lda int, w *int8, ldw, n int, c *int32, ldc int)
// c[r*ldc+j] = Σ_{q<k} a[r*lda+q]·w[j*ldw+q] for r < 4, j < n; k a positive multiple of 64.
TEXT ·dotsInt8VNNIx4(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	MOVQ w+24(FP), DI
	MOVQ ldw+32(FP), R10
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R11
	SHLQ $2, R11
	LEAQ (SI)(R9*1), R13
	LEAQ (SI)(R9*2), R12
	LEAQ (R12)(R9*1), R14

colloop4:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ AX, AX

kloop4:
	VMOVDQU8 (DI)(AX*1), Z8
	VMOVDQU8 (SI)(AX*1), Z4
	VMOVDQU8 (R13)(AX*1), Z5
	VMOVDQU8 (R12)(AX*1), Z6
	VMOVDQU8 (R14)(AX*1), Z7
	VPDPBUSD Z8, Z4, Z0
	VPDPBUSD Z8, Z5, Z1
	VPDPBUSD Z8, Z6, Z2
	VPDPBUSD Z8, Z7, Z3
	ADDQ $64, AX
	CMPQ AX, R8
	JLT  kloop4

	MOVQ DX, BX
	REDUCE(Z0, Y0, X0, (BX))
	ADDQ R11, BX
	REDUCE(Z1, Y1, X1, (BX))
	ADDQ R11, BX
	REDUCE(Z2, Y2, X2, (BX))
	ADDQ R11, BX
	REDUCE(Z3, Y3, X3, (BX))
	ADDQ R10, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  colloop4
	VZEROUPPER
	RET

// func dotsInt8VNNIx1(k int, a *uint8, w *int8, ldw, n int, c *int32)
// c[j] = Σ_{q<k} a[q]·w[j*ldw+q] for j < n; k a positive multiple of 64. Two accumulators
// (even and odd 64-byte chunks) keep two VPDPBUSDs in flight.
TEXT ·dotsInt8VNNIx1(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), R8
	MOVQ a+8(FP), SI
	MOVQ w+16(FP), DI
	MOVQ ldw+24(FP), R10
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), DX

colloop1:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	XORQ AX, AX
	MOVQ R8, BX
	SHRQ $7, BX // pairs of chunks
	JZ   tail1

kloop1:
	VMOVDQU8 (SI)(AX*1), Z4
	VMOVDQU8 64(SI)(AX*1), Z5
	VPDPBUSD (DI)(AX*1), Z4, Z0
	VPDPBUSD 64(DI)(AX*1), Z5, Z1
	ADDQ $128, AX
	DECQ BX
	JNZ  kloop1

tail1:
	CMPQ AX, R8
	JGE  done1
	VMOVDQU8 (SI)(AX*1), Z4
	VPDPBUSD (DI)(AX*1), Z4, Z0

done1:
	VPADDD Z1, Z0, Z0
	REDUCE(Z0, Y0, X0, (DX))
	ADDQ R10, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  colloop1
	VZEROUPPER
	RET

// func quantiseRowAVX512(n int, src *float32, inv float32, dst *uint8)
// dst[q] = int8(round-to-nearest-even(src[q]·inv)) + 128 for q < n, n a positive multiple of 16;
// every |src[q]·inv| is at most 127.5 (the caller scaled by the row's largest magnitude).
TEXT ·quantiseRowAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	VBROADCASTSS inv+16(FP), Z1
	MOVQ dst+24(FP), DI
	MOVL $0x80808080, AX
	VPBROADCASTD AX, X3

quantiseLoop:
	VMULPS (SI), Z1, Z0
	VCVTPS2DQ Z0, Z0  // rounds to nearest, ties to even (the default rounding mode)
	VPMOVSDB Z0, X0   // int32 → int8, saturating
	VPXORD X3, X0, X0 // + 128, as unsigned bytes
	VMOVDQU X0, (DI)
	ADDQ $64, SI
	ADDQ $16, DI
	SUBQ $16, CX
	JNZ quantiseLoop
	VZEROUPPER
	RET

// func absMaxAVX512(n int, src *float32, out *[32]float32)
// out[0:16] = lane-wise max of |src[q]|, out[16:32] = lane-wise sum of src[q]·0, which is NaN
// exactly when some src[q] is NaN or infinite (the max alone can lose a NaN); n a positive
// multiple of 16.
TEXT ·absMaxAVX512(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ src+8(FP), SI
	MOVQ out+16(FP), DI
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z5
	VPXORD Z0, Z0, Z0 // max so far
	VPXORD Z6, Z6, Z6 // zeros
	VPXORD Z7, Z7, Z7 // Σ x·0

absMaxLoop:
	VMOVUPS (SI), Z2
	VPANDD Z5, Z2, Z3
	VMAXPS Z3, Z0, Z0
	VMULPS Z6, Z2, Z4
	VADDPS Z4, Z7, Z7
	ADDQ $64, SI
	SUBQ $16, CX
	JNZ absMaxLoop
	VMOVUPS Z0, (DI)
	VMOVUPS Z7, 64(DI)
	VZEROUPPER
	RET

// func int8EpilogueAVX512(n int, sums, wsum *int32, scale *float32, sa float32, c *float32)
// c[j] = float32(sums[j] − 128·wsum[j]) · sa · scale[j] for j < n, n a positive multiple of 16:
// int8Columns' last step, in int32 (exact: see int8Epilogue) and then float32 as Go rounds it.
TEXT ·int8EpilogueAVX512(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ sums+8(FP), SI
	MOVQ wsum+16(FP), DX
	MOVQ scale+24(FP), BX
	VBROADCASTSS sa+32(FP), Z3
	MOVQ c+40(FP), DI

epilogueLoop:
	VMOVDQU32 (DX), Z1
	VPSLLD $7, Z1, Z1
	VMOVDQU32 (SI), Z0
	VPSUBD Z1, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMULPS Z3, Z0, Z0
	VMULPS (BX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JNZ epilogueLoop
	VZEROUPPER
	RET
