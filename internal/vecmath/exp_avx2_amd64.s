//go:build amd64 && !purego

#include "textflag.h"
#include "avx2_amd64.h"

// func expAVX2(dst, src *float32, n int, shift float32)
TEXT ·expAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS shift+24(FP), Y15
	VMOVUPS expLo<>(SB), Y14
	VMOVUPS expHi<>(SB), Y13
	CMPQ CX, $8
	JB   tail

loop:
	VMOVUPS (SI), Y0
	VSUBPS  Y15, Y0, Y0
	VMAXPS  Y0, Y14, Y0 // NaN kept, as in expAVX512
	VMINPS  Y0, Y13, Y0
	EXP256(Y0, Y1, Y2, Y3)
	VMOVUPS Y2, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     loop

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK256(Y12)
	VMASKMOVPS (SI), Y12, Y0
	VSUBPS     Y15, Y0, Y0
	VMAXPS     Y0, Y14, Y0
	VMINPS     Y0, Y13, Y0
	EXP256(Y0, Y1, Y2, Y3)
	VMASKMOVPS Y2, Y12, (DI)

done:
	VZEROUPPER
	RET
