//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// The GELU kernels of gelu_amd64.s for AVX2+FMA: 8 lanes, constants from
// memory, VBLENDVPS on the sign bit in place of mask registers.

CONST8(m20, 0xc1a00000)        // −20
CONST8(p20, 0x41a00000)        // 20
CONST8(mhalf, 0xbf000000)      // −1/2
CONST8(invsqrt2, 0x3f3504f3)   // 1/√2
CONST8(absmask, 0x7fffffff)
CONST8(signbit, 0x80000000)
CONST8(asp, 0x3ea7ba05)        // A&S p
CONST8(a1, 0x3e827906)
CONST8(a2, 0xbe91a98e)
CONST8(a3, 0x3fb5f0e3)
CONST8(a4, 0xbfba00e3)
CONST8(a5, 0x3f87dc22)
CONST8(invsqrt2pi, 0x3ecc422a) // 1/√(2π)
CONST8(twoc0, 0x3fcc422a)      // 2√(2/π)
CONST8(twoc0c1, 0x3d922279)    // 2√(2/π)·0.044715
CONST8(sixc0c1, 0x3e5b33b6)    // 6√(2/π)·0.044715

// Y11 = 2√(2/π), Y12 = 1, Y13 = −104, Y14 = 20, Y15 = −20.
#define GELU256_CONSTS \
	VMOVUPS twoc0<>(SB), Y11; \
	VMOVUPS one<>(SB), Y12; \
	VMOVUPS expLo<>(SB), Y13; \
	VMOVUPS p20<>(SB), Y14; \
	VMOVUPS m20<>(SB), Y15

// GELU256: x in Y0 → clamped x in Y0, gauss in Y3, Φ in Y6, y in Y7.
#define GELU256 \
	VMAXPS       Y0, Y15, Y0; \
	VMULPS       Y0, Y0, Y1; \
	VMULPS       mhalf<>(SB), Y1, Y1; \
	VMAXPS       Y1, Y13, Y1; \
	EXP256(Y1, Y2, Y3, Y4); \
	VMULPS       invsqrt2<>(SB), Y0, Y4; \
	VANDPS       absmask<>(SB), Y4, Y4; \
	VFMADD132PS  asp<>(SB), Y12, Y4; \
	VDIVPS       Y4, Y12, Y4; \
	VMOVUPS      a5<>(SB), Y5; \
	VFMADD213PS  a4<>(SB), Y4, Y5; \
	VFMADD213PS  a3<>(SB), Y4, Y5; \
	VFMADD213PS  a2<>(SB), Y4, Y5; \
	VFMADD213PS  a1<>(SB), Y4, Y5; \
	VMULPS       Y4, Y5, Y5; \
	VMULPS       half<>(SB), Y5, Y5; \
	VMULPS       Y3, Y5, Y5; \
	VSUBPS       Y5, Y12, Y6; \
	VBLENDVPS    Y0, Y5, Y6, Y6; \
	VMULPS       Y6, Y0, Y7

// GELUDERIV256: Y6 = Φ + min(x, 20)·φ.
#define GELUDERIV256 \
	VMINPS       Y0, Y14, Y1; \
	VMULPS       invsqrt2pi<>(SB), Y3, Y2; \
	VFMADD231PS  Y2, Y1, Y6

// GELUTANH256: x in Y0 → clamped x in Y0, s = σ(2u) in Y4, q in Y6, e·q in
// Y7, y in Y3.
#define GELUTANH256 \
	VMAXPS       Y0, Y15, Y0; \
	VMULPS       Y0, Y0, Y1; \
	VMOVAPS      Y11, Y2; \
	VFMADD231PS  twoc0c1<>(SB), Y1, Y2; \
	VMULPS       Y2, Y0, Y2; \
	VORPS        signbit<>(SB), Y2, Y3; \
	VMAXPS       Y3, Y13, Y3; \
	EXP256(Y3, Y4, Y5, Y6); \
	VADDPS       Y12, Y5, Y6; \
	VDIVPS       Y6, Y12, Y6; \
	VMULPS       Y6, Y5, Y7; \
	VBLENDVPS    Y2, Y7, Y6, Y4; \
	VMULPS       Y4, Y0, Y3

// GELUTANHDERIV256: Y1 = s + min(x, 20)·e·q²·2u'.
#define GELUTANHDERIV256 \
	VMINPS       Y0, Y14, Y1; \
	VMULPS       Y1, Y1, Y2; \
	VFMADD132PS  sixc0c1<>(SB), Y11, Y2; \
	VMULPS       Y6, Y7, Y7; \
	VMULPS       Y7, Y1, Y1; \
	VFMADD213PS  Y4, Y2, Y1

// UNARY256 is the loop of a one-output kernel: BODY maps Y0 to OUT.
#define UNARY256(BODY, OUT) \
	CMPQ CX, $8; \
	JB   tail; \
loop: \
	VMOVUPS (SI), Y0; \
	BODY; \
	VMOVUPS OUT, (DI); \
	ADDQ    $32, SI; \
	ADDQ    $32, DI; \
	SUBQ    $8, CX; \
	CMPQ    CX, $8; \
	JAE     loop; \
tail: \
	TESTQ CX, CX; \
	JZ    done; \
	TAILMASK256(Y8); \
	VMASKMOVPS (SI), Y8, Y0; \
	BODY; \
	VMASKMOVPS OUT, Y8, (DI); \
done: \
	VZEROUPPER; \
	RET

// func geluAVX2(dst, src *float32, n int)
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	GELU256_CONSTS
	UNARY256(GELU256, Y7)

// func geluTanhAVX2(dst, src *float32, n int)
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	GELU256_CONSTS
	UNARY256(GELUTANH256, Y3)

// DERIV256 is the loop of a kernel with outputs OUT1 → (DI), OUT2 → (DX).
#define DERIV256(BODY, OUT1, OUT2) \
	CMPQ CX, $8; \
	JB   tail; \
loop: \
	VMOVUPS (SI), Y0; \
	BODY; \
	VMOVUPS OUT1, (DI); \
	VMOVUPS OUT2, (DX); \
	ADDQ    $32, SI; \
	ADDQ    $32, DI; \
	ADDQ    $32, DX; \
	SUBQ    $8, CX; \
	CMPQ    CX, $8; \
	JAE     loop; \
tail: \
	TESTQ CX, CX; \
	JZ    done; \
	TAILMASK256(Y8); \
	VMASKMOVPS (SI), Y8, Y0; \
	BODY; \
	VMASKMOVPS OUT1, Y8, (DI); \
	VMASKMOVPS OUT2, Y8, (DX); \
done: \
	VZEROUPPER; \
	RET

// func geluDerivAVX2(y, dydx, src *float32, n int)
TEXT ·geluDerivAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ dydx+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	GELU256_CONSTS
	DERIV256(GELU256; GELUDERIV256, Y7, Y6)

// func geluTanhDerivAVX2(y, dydx, src *float32, n int)
TEXT ·geluTanhDerivAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ dydx+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	GELU256_CONSTS
	DERIV256(GELUTANH256; GELUTANHDERIV256, Y3, Y1)
