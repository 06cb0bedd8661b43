//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// Both GELU forms, 16 lanes at a time, in the operation order of
// geluExact and geluTanhForm (generic.go). The forward-only and the
// with-derivative kernels share their body through macros; the derivative
// adds only a few instructions since the exponential is shared.

// ---- exact form: x·Φ(x) ----

// Registers besides EXP512's Z16-Z25.
#define GELU_CONSTS \
	EXP512_CONSTS; \
	MOVL $0xc2d00000, AX; VPBROADCASTD AX, Z26; /* −104 */ \
	MOVL $0xc1a00000, AX; VPBROADCASTD AX, Z27; /* −20 */ \
	MOVL $0x41a00000, AX; VPBROADCASTD AX, Z28; /* 20 */ \
	MOVL $0xbf000000, AX; VPBROADCASTD AX, Z29; /* −1/2 */ \
	MOVL $0x3f3504f3, AX; VPBROADCASTD AX, Z30; /* 1/√2 */ \
	MOVL $0x7fffffff, AX; VPBROADCASTD AX, Z31; /* |·| mask */ \
	MOVL $0x3ea7ba05, AX; VPBROADCASTD AX, Z8;  /* A&S p */ \
	MOVL $0x3e827906, AX; VPBROADCASTD AX, Z9;  /* a1 */ \
	MOVL $0xbe91a98e, AX; VPBROADCASTD AX, Z10; /* a2 */ \
	MOVL $0x3fb5f0e3, AX; VPBROADCASTD AX, Z11; /* a3 */ \
	MOVL $0xbfba00e3, AX; VPBROADCASTD AX, Z12; /* a4 */ \
	MOVL $0x3f87dc22, AX; VPBROADCASTD AX, Z13; /* a5 */ \
	MOVL $0x3ecc422a, AX; VPBROADCASTD AX, Z14; /* 1/√(2π) */ \
	VPXORD Z15, Z15, Z15

// GELU512 takes x in Z0 and leaves the clamped x in Z0, Φ(x) in Z6,
// e^(−x²/2) in Z3 and y = x·Φ(x) in Z7.
#define GELU512 \
	VMAXPS      Z0, Z27, Z0; /* x = max(x, −20), NaN kept */ \
	VMULPS      Z0, Z0, Z1; \
	VMULPS      Z29, Z1, Z1; \
	VMAXPS      Z1, Z26, Z1; \
	EXP512(Z1, Z2, Z3); /* gauss = e^(−x²/2) */ \
	VMULPS      Z30, Z0, Z4; \
	VPANDD      Z31, Z4, Z4; /* z = |x|/√2 */ \
	VFMADD213PS Z25, Z8, Z4; \
	VDIVPS      Z4, Z25, Z4; /* t = 1/(1 + p·z) */ \
	VMOVAPS     Z13, Z5; \
	VFMADD213PS Z12, Z4, Z5; \
	VFMADD213PS Z11, Z4, Z5; \
	VFMADD213PS Z10, Z4, Z5; \
	VFMADD213PS Z9, Z4, Z5; \
	VMULPS      Z4, Z5, Z5; /* erfc(z)·e^(z²) */ \
	VMULPS      Z24, Z5, Z5; \
	VMULPS      Z3, Z5, Z5; /* e = Φ(−|x|) */ \
	VSUBPS      Z5, Z25, Z6; \
	VCMPPS      $1, Z15, Z0, K2; /* x < 0 */ \
	VMOVAPS     Z5, K2, Z6; /* Φ(x) */ \
	VMULPS      Z6, Z0, Z7

// GELUDERIV512 follows GELU512, setting Z6 = Φ(x) + x·φ(x) with x clamped
// to ≤ 20 so that +Inf·0 does not occur.
#define GELUDERIV512 \
	VMINPS      Z0, Z28, Z1; \
	VMULPS      Z14, Z3, Z2; \
	VFMADD231PS Z2, Z1, Z6

// func geluAVX512(dst, src *float32, n int)
TEXT ·geluAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	GELU_CONSTS
	CMPQ CX, $16
	JB   gelu_tail

gelu_loop:
	VMOVUPS (SI), Z0
	GELU512
	VMOVUPS Z7, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     gelu_loop

gelu_tail:
	TESTQ CX, CX
	JZ    gelu_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	GELU512
	VMOVUPS   Z7, K1, (DI)

gelu_done:
	VZEROUPPER
	RET

// func geluDerivAVX512(y, dydx, src *float32, n int)
TEXT ·geluDerivAVX512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ dydx+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	GELU_CONSTS
	CMPQ CX, $16
	JB   gelud_tail

gelud_loop:
	VMOVUPS (SI), Z0
	GELU512
	GELUDERIV512
	VMOVUPS Z7, (DI)
	VMOVUPS Z6, (DX)
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, DX
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     gelud_loop

gelud_tail:
	TESTQ CX, CX
	JZ    gelud_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	GELU512
	GELUDERIV512
	VMOVUPS   Z7, K1, (DI)
	VMOVUPS   Z6, K1, (DX)

gelud_done:
	VZEROUPPER
	RET

// ---- tanh form: x·σ(2u), u = √(2/π)(x + 0.044715x³) ----

#define GELUTANH_CONSTS \
	EXP512_CONSTS; \
	MOVL $0xc2d00000, AX; VPBROADCASTD AX, Z26; /* −104 */ \
	MOVL $0xc1a00000, AX; VPBROADCASTD AX, Z27; /* −20 */ \
	MOVL $0x41a00000, AX; VPBROADCASTD AX, Z28; /* 20 */ \
	MOVL $0x3fcc422a, AX; VPBROADCASTD AX, Z29; /* 2√(2/π) */ \
	MOVL $0x3d922279, AX; VPBROADCASTD AX, Z30; /* 2√(2/π)·0.044715 */ \
	MOVL $0x80000000, AX; VPBROADCASTD AX, Z8;  /* sign bit */ \
	MOVL $0x3e5b33b6, AX; VPBROADCASTD AX, Z9;  /* 6√(2/π)·0.044715 */ \
	VPXORD Z15, Z15, Z15

// GELUTANH512 takes x in Z0 and leaves the clamped x in Z0, σ(2u) in Z4,
// e = e^(−|2u|) in Z5, q = 1/(1+e) in Z6, e·q in Z7 and y = x·σ(2u) in Z3.
// σ is q for u ≥ 0 and e·q below, so neither it nor 1−σ cancels.
#define GELUTANH512 \
	VMAXPS      Z0, Z27, Z0; \
	VMULPS      Z0, Z0, Z1; \
	VMOVAPS     Z29, Z2; \
	VFMADD231PS Z1, Z30, Z2; \
	VMULPS      Z2, Z0, Z2; /* v = 2u */ \
	VPORD       Z8, Z2, Z3; /* −|v| */ \
	VMAXPS      Z3, Z26, Z3; \
	EXP512(Z3, Z4, Z5); \
	VADDPS      Z25, Z5, Z6; \
	VDIVPS      Z6, Z25, Z6; \
	VMULPS      Z6, Z5, Z7; \
	VCMPPS      $1, Z15, Z2, K2; /* v < 0 */ \
	VMOVAPS     Z6, Z4; \
	VMOVAPS     Z7, K2, Z4; \
	VMULPS      Z4, Z0, Z3

// GELUTANHDERIV512 follows GELUTANH512, setting Z1 = σ + x·σ(1−σ)·2u' with
// σ(1−σ) = e·q² and x clamped to ≤ 20.
#define GELUTANHDERIV512 \
	VMINPS      Z0, Z28, Z1; \
	VMULPS      Z1, Z1, Z2; \
	VFMADD213PS Z29, Z9, Z2; /* 2u' */ \
	VMULPS      Z6, Z7, Z7; \
	VMULPS      Z7, Z1, Z1; \
	VFMADD213PS Z4, Z2, Z1

// func geluTanhAVX512(dst, src *float32, n int)
TEXT ·geluTanhAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	GELUTANH_CONSTS
	CMPQ CX, $16
	JB   tanh_tail

tanh_loop:
	VMOVUPS (SI), Z0
	GELUTANH512
	VMOVUPS Z3, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     tanh_loop

tanh_tail:
	TESTQ CX, CX
	JZ    tanh_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	GELUTANH512
	VMOVUPS   Z3, K1, (DI)

tanh_done:
	VZEROUPPER
	RET

// func geluTanhDerivAVX512(y, dydx, src *float32, n int)
TEXT ·geluTanhDerivAVX512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ dydx+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	GELUTANH_CONSTS
	CMPQ CX, $16
	JB   tanhd_tail

tanhd_loop:
	VMOVUPS (SI), Z0
	GELUTANH512
	GELUTANHDERIV512
	VMOVUPS Z3, (DI)
	VMOVUPS Z1, (DX)
	ADDQ    $64, SI
	ADDQ    $64, DI
	ADDQ    $64, DX
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     tanhd_loop

tanhd_tail:
	TESTQ CX, CX
	JZ    tanhd_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	GELUTANH512
	GELUTANHDERIV512
	VMOVUPS   Z3, K1, (DI)
	VMOVUPS   Z1, K1, (DX)

tanhd_done:
	VZEROUPPER
	RET
