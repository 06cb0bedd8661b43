//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// Element-wise arithmetic, 64 elements (four ZMM) per iteration so that the
// loop overhead hides behind the loads and stores these kernels are bound by,
// then one vector at a time, then a masked tail.

// func addAVX512(dst, a, b *float32, n int)
TEXT ·addAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $64
	JB   add_one

add_four:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VADDPS  (DX), Z0, Z0
	VADDPS  64(DX), Z1, Z1
	VADDPS  128(DX), Z2, Z2
	VADDPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     add_four

add_one:
	CMPQ    CX, $16
	JB      add_tail
	VMOVUPS (SI), Z0
	VADDPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     add_one

add_tail:
	TESTQ CX, CX
	JZ    add_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

add_done:
	VZEROUPPER
	RET

// func mulAVX512(dst, a, b *float32, n int)
TEXT ·mulAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $64
	JB   mul_one

mul_four:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	VMULPS  (DX), Z0, Z0
	VMULPS  64(DX), Z1, Z1
	VMULPS  128(DX), Z2, Z2
	VMULPS  192(DX), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DX
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     mul_four

mul_one:
	CMPQ    CX, $16
	JB      mul_tail
	VMOVUPS (SI), Z0
	VMULPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     mul_one

mul_tail:
	TESTQ CX, CX
	JZ    mul_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

mul_done:
	VZEROUPPER
	RET

// func scaleAVX512(dst, src *float32, n int, s float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Z8
	CMPQ CX, $64
	JB   scale_one

scale_four:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     scale_four

scale_one:
	CMPQ    CX, $16
	JB      scale_tail
	VMULPS  (SI), Z8, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     scale_one

scale_tail:
	TESTQ CX, CX
	JZ    scale_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMULPS    Z0, Z8, Z0
	VMOVUPS   Z0, K1, (DI)

scale_done:
	VZEROUPPER
	RET

// func addScaledAVX512(dst, src *float32, n int, s float32)
// dst += s·src with the product rounded before the sum (no FMA), to match
// the Go code bit for bit.
TEXT ·addScaledAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Z8
	CMPQ CX, $64
	JB   axpy_one

axpy_four:
	VMULPS  (SI), Z8, Z0
	VMULPS  64(SI), Z8, Z1
	VMULPS  128(SI), Z8, Z2
	VMULPS  192(SI), Z8, Z3
	VADDPS  (DI), Z0, Z0
	VADDPS  64(DI), Z1, Z1
	VADDPS  128(DI), Z2, Z2
	VADDPS  192(DI), Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     axpy_four

axpy_one:
	CMPQ    CX, $16
	JB      axpy_tail
	VMULPS  (SI), Z8, Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     axpy_one

axpy_tail:
	TESTQ CX, CX
	JZ    axpy_done
	TAILMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	VMULPS    Z0, Z8, Z0
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

axpy_done:
	VZEROUPPER
	RET
