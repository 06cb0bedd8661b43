//go:build amd64 && !purego

#include "textflag.h"
#include "exp_amd64.h"

// Reductions. Sum and Dot keep 32 float64 partial sums in Z0-Z3 (lane j of
// Zk is partial sum 8k+j) and take n as a multiple of 32, leaving the tail
// and the final fixed-order reduction to Go (vecmath.go) so that every code
// path adds the same numbers in the same order.

// func sumAVX512(acc *[32]float64, src *float32, n int)
TEXT ·sumAVX512(SB), NOSPLIT, $0-24
	MOVQ acc+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	SHRQ    $5, CX
	JZ      sum_done

sum_loop:
	VCVTPS2PD (SI), Z4
	VCVTPS2PD 32(SI), Z5
	VCVTPS2PD 64(SI), Z6
	VCVTPS2PD 96(SI), Z7
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z1, Z1
	VADDPD    Z6, Z2, Z2
	VADDPD    Z7, Z3, Z3
	ADDQ      $128, SI
	DECQ      CX
	JNZ       sum_loop

sum_done:
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VZEROUPPER
	RET

// func dotAVX512(acc *[32]float64, a, b *float32, n int)
// The float64 product of two float32s is exact, so the fused multiply-add
// rounds once, like the separate multiply and add in Go.
TEXT ·dotAVX512(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	VMOVUPD 128(DI), Z2
	VMOVUPD 192(DI), Z3
	SHRQ    $5, CX
	JZ      dot_done

dot_loop:
	VCVTPS2PD   (SI), Z4
	VCVTPS2PD   32(SI), Z5
	VCVTPS2PD   64(SI), Z6
	VCVTPS2PD   96(SI), Z7
	VCVTPS2PD   (DX), Z8
	VCVTPS2PD   32(DX), Z9
	VCVTPS2PD   64(DX), Z10
	VCVTPS2PD   96(DX), Z11
	VFMADD231PD Z8, Z4, Z0
	VFMADD231PD Z9, Z5, Z1
	VFMADD231PD Z10, Z6, Z2
	VFMADD231PD Z11, Z7, Z3
	ADDQ        $128, SI
	ADDQ        $128, DX
	DECQ        CX
	JNZ         dot_loop

dot_done:
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VZEROUPPER
	RET

// func maxAVX512(lanes *[16]float32, src *float32, n int) (nan bool)
// Leaves 16 lane maxima for Go to combine. NaN elements are skipped by the
// maximum (VMAXPS returns its last, Go first, operand when one is NaN) and
// recorded in K2 instead.
TEXT ·maxAVX512(SB), NOSPLIT, $0-25
	MOVQ lanes+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Z0 // −Inf
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	KXORW   K2, K2, K2
	CMPQ    CX, $64
	JB      max_one

max_four:
	VMOVUPS  (SI), Z4
	VMOVUPS  64(SI), Z5
	VMOVUPS  128(SI), Z6
	VMOVUPS  192(SI), Z7
	VMAXPS   Z0, Z4, Z0
	VMAXPS   Z1, Z5, Z1
	VMAXPS   Z2, Z6, Z2
	VMAXPS   Z3, Z7, Z3
	VCMPPS   $3, Z4, Z4, K1
	KORW     K1, K2, K2
	VCMPPS   $3, Z5, Z5, K1
	KORW     K1, K2, K2
	VCMPPS   $3, Z6, Z6, K1
	KORW     K1, K2, K2
	VCMPPS   $3, Z7, Z7, K1
	KORW     K1, K2, K2
	ADDQ     $256, SI
	SUBQ     $64, CX
	CMPQ     CX, $64
	JAE      max_four

max_one:
	CMPQ    CX, $16
	JB      max_tail
	VMOVUPS (SI), Z4
	VMAXPS  Z0, Z4, Z0
	VCMPPS  $3, Z4, Z4, K1
	KORW    K1, K2, K2
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     max_one

max_tail:
	TESTQ CX, CX
	JZ    max_done
	TAILMASK(K3)
	MOVL  $0xff800000, AX
	VPBROADCASTD AX, Z4
	VMOVUPS (SI), K3, Z4 // −Inf in the lanes past the end
	VMAXPS  Z0, Z4, Z0
	VCMPPS  $3, Z4, Z4, K1
	KORW    K1, K2, K2

max_done:
	VMAXPS  Z1, Z0, Z0
	VMAXPS  Z3, Z2, Z2
	VMAXPS  Z2, Z0, Z0
	// the largest lane into lane 0: halves, quarters, pairs, neighbours
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	VMOVUPS Z0, (DI)
	KORTESTW K2, K2
	SETNE   nan+24(FP)
	VZEROUPPER
	RET
