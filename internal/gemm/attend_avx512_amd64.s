//go:build amd64 && !purego

#include "textflag.h"

// func scoresAVX512(hs int, q, k *float32, ldk, n int, s *float32)
//
// s[t] = q·(key row t at k+t·ldk) for t < n, hs a positive multiple of 16. Four key rows at a
// time share each load of q; their sixteen-lane sums are folded together: the upper eight lanes
// onto the lower, then two rounds of pairwise sums (VHADDPS) across the four rows, then the two
// 128-bit halves, leaving the four scores side by side.
TEXT ·scoresAVX512(SB), NOSPLIT, $0-48
	MOVQ hs+0(FP), CX
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), R8
	MOVQ ldk+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ s+40(FP), DI
	SHLQ $2, CX              // bytes per row
	SHLQ $2, R9              // bytes between rows
	LEAQ (R9)(R9*2), R13     // three rows

four:
	CMPQ R10, $4
	JLT  one
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	LEAQ   (R8)(R9*1), R11
	LEAQ   (R8)(R9*2), R12
	LEAQ   (R8)(R13*1), R14
	XORQ   AX, AX

four_loop:
	VMOVUPS     (SI)(AX*1), Z8
	VFMADD231PS (R8)(AX*1), Z8, Z0
	VFMADD231PS (R11)(AX*1), Z8, Z1
	VFMADD231PS (R12)(AX*1), Z8, Z2
	VFMADD231PS (R14)(AX*1), Z8, Z3
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         four_loop

	VEXTRACTF64X4 $1, Z0, Y4
	VADDPS        Y4, Y0, Y0
	VEXTRACTF64X4 $1, Z1, Y5
	VADDPS        Y5, Y1, Y1
	VEXTRACTF64X4 $1, Z2, Y6
	VADDPS        Y6, Y2, Y2
	VEXTRACTF64X4 $1, Z3, Y7
	VADDPS        Y7, Y3, Y3
	VHADDPS       Y1, Y0, Y4  // per half: r0 pairs, r1 pairs
	VHADDPS       Y3, Y2, Y5  // per half: r2 pairs, r3 pairs
	VHADDPS       Y5, Y4, Y6  // per half: r0, r1, r2, r3
	VEXTRACTF128  $1, Y6, X7
	VADDPS        X7, X6, X6
	VMOVUPS       X6, (DI)
	ADDQ          $16, DI
	LEAQ          (R8)(R9*4), R8
	SUBQ          $4, R10
	JMP           four

one:
	TESTQ R10, R10
	JLE   done
	VXORPS Z0, Z0, Z0
	XORQ   AX, AX

one_loop:
	VMOVUPS     (SI)(AX*1), Z8
	VFMADD231PS (R8)(AX*1), Z8, Z0
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         one_loop

	VEXTRACTF64X4 $1, Z0, Y4
	VADDPS        Y4, Y0, Y0
	VHADDPS       Y0, Y0, Y0
	VHADDPS       Y0, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDSS        X1, X0, X0
	VMOVSS        X0, (DI)
	ADDQ          $4, DI
	ADDQ          R9, R8
	DECQ          R10
	JMP           one

done:
	VZEROUPPER
	RET

// func weightedAVX512(hs int, p *float32, n int, v *float32, ldv int, y *float32)
//
// y = Σ_t p[t]·(value row t at v+t·ldv), hs a positive multiple of 16, n ≥ 1. The output row
// is built 64 columns at a time (then 16) in registers: even positions in one set of
// accumulators, odd ones in another (two independent FMA chains), added at the end.
TEXT ·weightedAVX512(SB), NOSPLIT, $0-48
	MOVQ hs+0(FP), CX
	MOVQ v+24(FP), BX
	MOVQ ldv+32(FP), R9
	MOVQ y+40(FP), DI
	SHLQ $2, R9

cols64:
	CMPQ   CX, $64
	JLT    cols16
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	MOVQ   p+8(FP), SI
	MOVQ   n+16(FP), R10
	MOVQ   BX, R8

pair64:
	CMPQ         R10, $2
	JLT          last64
	LEAQ         (R8)(R9*1), R11
	VBROADCASTSS (SI), Z8
	VBROADCASTSS 4(SI), Z9
	VFMADD231PS  (R8), Z8, Z0
	VFMADD231PS  64(R8), Z8, Z1
	VFMADD231PS  128(R8), Z8, Z2
	VFMADD231PS  192(R8), Z8, Z3
	VFMADD231PS  (R11), Z9, Z4
	VFMADD231PS  64(R11), Z9, Z5
	VFMADD231PS  128(R11), Z9, Z6
	VFMADD231PS  192(R11), Z9, Z7
	ADDQ         $8, SI
	LEAQ         (R8)(R9*2), R8
	SUBQ         $2, R10
	JMP          pair64

last64:
	TESTQ        R10, R10
	JZ           store64
	VBROADCASTSS (SI), Z8
	VFMADD231PS  (R8), Z8, Z0
	VFMADD231PS  64(R8), Z8, Z1
	VFMADD231PS  128(R8), Z8, Z2
	VFMADD231PS  192(R8), Z8, Z3

store64:
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1
	VADDPS  Z6, Z2, Z2
	VADDPS  Z7, Z3, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    $256, DI
	ADDQ    $256, BX
	SUBQ    $64, CX
	JMP     cols64

cols16:
	CMPQ   CX, $16
	JLT    done
	VXORPS Z0, Z0, Z0
	VXORPS Z4, Z4, Z4
	MOVQ   p+8(FP), SI
	MOVQ   n+16(FP), R10
	MOVQ   BX, R8

pair16:
	CMPQ         R10, $2
	JLT          last16
	VBROADCASTSS (SI), Z8
	VBROADCASTSS 4(SI), Z9
	VFMADD231PS  (R8), Z8, Z0
	VFMADD231PS  (R8)(R9*1), Z9, Z4
	ADDQ         $8, SI
	LEAQ         (R8)(R9*2), R8
	SUBQ         $2, R10
	JMP          pair16

last16:
	TESTQ        R10, R10
	JZ           store16
	VBROADCASTSS (SI), Z8
	VFMADD231PS  (R8), Z8, Z0

store16:
	VADDPS  Z4, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	ADDQ    $64, BX
	SUBQ    $16, CX
	JMP     cols16

done:
	VZEROUPPER
	RET
