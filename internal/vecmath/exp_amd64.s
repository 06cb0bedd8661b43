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

// SOFTMAX_EXP16 replaces 16 scores at mem with e^(x − max) (max in Z14, clamped as expAVX512
// clamps) and adds them, widened to float64, into lo (the first 8) and hi (the next 8).
#define SOFTMAX_EXP16(mem, lo, hi) \
	VMOVUPS       mem, Z0; \
	VSUBPS        Z14, Z0, Z0; \
	VMAXPS        Z0, Z26, Z0; \
	VMINPS        Z0, Z27, Z0; \
	EXP512(Z0, Z1, Z2); \
	VMOVUPS       Z2, mem; \
	VCVTPS2PD     Y2, Z11; \
	VADDPD        Z11, lo, lo; \
	VEXTRACTF64X4 $1, Z2, Y12; \
	VCVTPS2PD     Y12, Z11; \
	VADDPD        Z11, hi, hi

// SOFTMAX_EXP_TAIL is SOFTMAX_EXP16 for the first CX (< 16) scores at (SI): the lanes past the
// row add 0 to the sums. Clobbers AX and K1.
#define SOFTMAX_EXP_TAIL(lo, hi) \
	TAILMASK(K1); \
	VMOVUPS.Z     (SI), K1, Z0; \
	VSUBPS        Z14, Z0, Z0; \
	VMAXPS        Z0, Z26, Z0; \
	VMINPS        Z0, Z27, Z0; \
	EXP512(Z0, Z1, Z2); \
	VMOVUPS       Z2, K1, (SI); \
	VXORPS        Z3, Z3, Z3; \
	VMOVAPS       Z2, K1, Z3; \
	VCVTPS2PD     Y3, Z11; \
	VADDPD        Z11, lo, lo; \
	VEXTRACTF64X4 $1, Z3, Y12; \
	VCVTPS2PD     Y12, Z11; \
	VADDPD        Z11, hi, hi

// func softmaxScaledAVX512(row *float32, n int, scale float32) (ok bool)
// row = softmax(row·scale) in place, n ≥ 1, as scaleAVX512 then SoftmaxRow compute it, bit for
// bit: the products rounded as VMULPS rounds them, the maximum, e^(x − max) by expAVX512's clamp
// and polynomial, the sum of the exponentials in float64 with element i in partial sum i mod 32
// and the partial sums added in reduceLanes' order, and then each exponential times
// float32(1/sum). With a NaN or an infinite product it leaves the row scaled and returns false,
// for SoftmaxRow to finish the special cases.
TEXT ·softmaxScaledAVX512(SB), NOSPLIT, $0-25
	MOVQ         row+0(FP), DI
	MOVQ         n+8(FP), R8
	VBROADCASTSS scale+16(FP), Z15

	// pass 1: scale in place; lane maxima in Z8; Σ x·0 in Z9, NaN when some x is NaN or ±Inf
	MOVL         $0xff800000, AX
	VPBROADCASTD AX, Z8
	VXORPS       Z9, Z9, Z9
	VXORPS       Z10, Z10, Z10
	MOVQ         DI, SI
	MOVQ         R8, CX

scale_loop:
	CMPQ    CX, $16
	JB      scale_tail
	VMULPS  (SI), Z15, Z0
	VMOVUPS Z0, (SI)
	VMAXPS  Z0, Z8, Z8
	VMULPS  Z10, Z0, Z1
	VADDPS  Z1, Z9, Z9
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     scale_loop

scale_tail:
	TESTQ     CX, CX
	JZ        scale_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS    Z15, Z0, Z0
	VMOVUPS   Z0, K1, (SI)
	VMAXPS    Z0, Z8, K1, Z8
	VMULPS    Z10, Z0, Z1
	VADDPS    Z1, Z9, Z9

scale_done:
	VCMPPS   $3, Z9, Z9, K2
	KORTESTW K2, K2
	JNZ      not_finite
	VEXTRACTF64X4 $1, Z8, Y1
	VMAXPS        Y1, Y8, Y8
	VEXTRACTF128  $1, Y8, X1
	VMAXPS        X1, X8, X8
	VPERMILPS     $0x4e, X8, X1
	VMAXPS        X1, X8, X8
	VPERMILPS     $0xb1, X8, X1
	VMAXPS        X1, X8, X8
	VBROADCASTSS  X8, Z14

	// pass 2: e^(x − max) in place, summed in float64: elements 32c..32c+7 into Z4, +8.. into
	// Z5, +16.. into Z6, +24.. into Z7 (lane j of Z4..Z7 is Sum's partial sum 8·k + j)
	EXP512_CONSTS
	MOVL         $0xc2d00000, AX
	VPBROADCASTD AX, Z26
	MOVL         $0x42b20000, AX
	VPBROADCASTD AX, Z27
	VXORPD       Z4, Z4, Z4
	VXORPD       Z5, Z5, Z5
	VXORPD       Z6, Z6, Z6
	VXORPD       Z7, Z7, Z7
	MOVQ         DI, SI
	MOVQ         R8, CX

exp_loop:
	CMPQ CX, $32
	JB   exp_half
	SOFTMAX_EXP16((SI), Z4, Z5)
	SOFTMAX_EXP16(64(SI), Z6, Z7)
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  exp_loop

exp_half: // fewer than 32 left: up to 16 into Z4/Z5, the rest into Z6/Z7
	TESTQ CX, CX
	JZ    exp_done
	CMPQ  CX, $16
	JB    exp_low_tail
	SOFTMAX_EXP16((SI), Z4, Z5)
	ADDQ  $64, SI
	SUBQ  $16, CX
	JZ    exp_done
	SOFTMAX_EXP_TAIL(Z6, Z7)
	JMP   exp_done

exp_low_tail:
	SOFTMAX_EXP_TAIL(Z4, Z5)

exp_done:
	// reduceLanes: s_j = (p_j + p_8+j) + (p_16+j + p_24+j), then s_j + s_j+4, then s0 + s2 and
	// s1 + s3, then their sum
	VADDPD        Z5, Z4, Z4
	VADDPD        Z7, Z6, Z6
	VADDPD        Z6, Z4, Z4
	VEXTRACTF64X4 $1, Z4, Y5
	VADDPD        Y5, Y4, Y4
	VEXTRACTF128  $1, Y4, X5
	VADDPD        X5, X4, X4
	VPERMILPD     $1, X4, X5
	VADDSD        X5, X4, X4
	MOVQ          $0x3ff0000000000000, AX
	MOVQ          AX, X6
	VDIVSD        X4, X6, X6 // 1/sum in float64
	VCVTSD2SS     X6, X6, X6 // then float32, rounded to nearest
	VBROADCASTSS  X6, Z6

	// pass 3: times 1/sum
	MOVQ DI, SI
	MOVQ R8, CX

norm_loop:
	CMPQ    CX, $16
	JB      norm_tail
	VMULPS  (SI), Z6, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     norm_loop

norm_tail:
	TESTQ     CX, CX
	JZ        norm_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS    Z6, Z0, Z0
	VMOVUPS   Z0, K1, (SI)

norm_done:
	MOVB $1, ok+24(FP)
	VZEROUPPER
	RET

not_finite:
	MOVB $0, ok+24(FP)
	VZEROUPPER
	RET
