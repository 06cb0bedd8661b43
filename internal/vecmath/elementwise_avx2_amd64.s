//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// The element-wise kernels of elementwise_amd64.s for AVX2: 32 elements per
// iteration, then 8, then a VMASKMOVPS tail (which, like AVX-512 masking,
// does not fault on the lanes it leaves out).

// func addAVX2(dst, a, b *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $32
	JB   one

four:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VADDPS  64(DX), Y2, Y2
	VADDPS  96(DX), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMASKMOVPS (DX), Y8, Y1
	VADDPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// func mulAVX2(dst, a, b *float32, n int)
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $32
	JB   one

four:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMULPS  (DX), Y0, Y0
	VMULPS  32(DX), Y1, Y1
	VMULPS  64(DX), Y2, Y2
	VMULPS  96(DX), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMASKMOVPS (DX), Y8, Y1
	VMULPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// func scaleAVX2(dst, src *float32, n int, s float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y9
	CMPQ CX, $32
	JB   one

four:
	VMULPS  (SI), Y9, Y0
	VMULPS  32(SI), Y9, Y1
	VMULPS  64(SI), Y9, Y2
	VMULPS  96(SI), Y9, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMULPS  (SI), Y9, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMULPS     Y0, Y9, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET

// addScaledAVX2 rounds the product before the sum, like the Go code.
// func addScaledAVX2(dst, src *float32, n int, s float32)
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y9
	CMPQ CX, $32
	JB   one

four:
	VMULPS  (SI), Y9, Y0
	VMULPS  32(SI), Y9, Y1
	VMULPS  64(SI), Y9, Y2
	VMULPS  96(SI), Y9, Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     four

one:
	CMPQ    CX, $8
	JB      tail
	VMULPS  (SI), Y9, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     one

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y8)
	VMASKMOVPS (SI), Y8, Y0
	VMULPS     Y0, Y9, Y0
	VMASKMOVPS (DI), Y8, Y1
	VADDPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y8, (DI)

done:
	VZEROUPPER
	RET
