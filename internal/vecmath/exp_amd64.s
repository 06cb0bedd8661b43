//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// func expAVX512(dst, src *float32, n int, shift float32)
// dst[i] = e^(src[i] − shift); the shift lets softmax subtract its maximum
// without a separate pass.
TEXT ·expAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Z15
	EXP512_CONSTS
	MOVL $0xc2d00000, AX
	VPBROADCASTD AX, Z26 // −104: e^x rounds to 0 below
	MOVL $0x42b20000, AX
	VPBROADCASTD AX, Z27 // 89: e^x overflows above

	CMPQ CX, $16
	JB   tail

loop:
	VMOVUPS (SI), Z0
	VSUBPS  Z15, Z0, Z0
	// Operand order keeps NaN: VMAXPS/VMINPS return their last (Go: first)
	// operand when either is NaN.
	VMAXPS  Z0, Z26, Z0
	VMINPS  Z0, Z27, Z0
	EXP512(Z0, Z1, Z2)
	VMOVUPS Z2, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     loop

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS    Z15, Z0, Z0
	VMAXPS    Z0, Z26, Z0
	VMINPS    Z0, Z27, Z0
	EXP512(Z0, Z1, Z2)
	VMOVUPS   Z2, K1, (DI)

done:
	VZEROUPPER
	RET

// SIGMOID512 sets Z2 = 1/(1 + e^−Z0) (Z0 and Z1 clobbered), with the constants below.
#define SIGMOID512 \
	VPXORD  Z28, Z0, Z0; \
	VMAXPS  Z0, Z26, Z0; \
	VMINPS  Z0, Z27, Z0; \
	EXP512(Z0, Z1, Z2); \
	VADDPS  Z25, Z2, Z2; \
	VDIVPS  Z2, Z25, Z2

// func sigmoidAVX512(dst, src *float32, n int)
// dst[i] = 1/(1 + e^−src[i]): the negation, expAVX512's clamp and polynomial, then one
// addition and one division, each rounded as Go rounds them, so the result is the same bit for
// bit as negating, calling Exp and dividing in Go on this path.
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	EXP512_CONSTS
	MOVL $0xc2d00000, AX
	VPBROADCASTD AX, Z26 // −104
	MOVL $0x42b20000, AX
	VPBROADCASTD AX, Z27 // 89
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z28 // the sign bit

	CMPQ CX, $16
	JB   sig_tail

sig_loop:
	VMOVUPS (SI), Z0
	SIGMOID512
	VMOVUPS Z2, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     sig_loop

sig_tail:
	TESTQ CX, CX
	JZ    sig_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	SIGMOID512
	VMOVUPS Z2, K1, (DI)

sig_done:
	VZEROUPPER
	RET
