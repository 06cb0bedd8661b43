//go:build amd64 && !purego

#include "textflag.h"

// func transpose8x8Blocks(dst, src *float32, ldd, lds, blocks int)
//
// For b in [0, blocks): reads the 8×8 block of 8 source rows (stride lds
// elements) at columns 8b..8b+7 and writes its transpose as 8 rows of 8
// values (stride ldd elements) starting at dst row 8b. This is the inner
// loop of packing a row-major operand into k-major panels; an in-register
// transpose replaces 64 scalar loads and stores by 8 vector loads and stores.
TEXT ·transpose8x8Blocks(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldd+16(FP), DX
	MOVQ lds+24(FP), BX
	MOVQ blocks+32(FP), CX
	SHLQ $2, DX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R8 // 3*lds bytes
	TESTQ CX, CX
	JZ   done

loop:
	// Rows 0-3 at SI, rows 4-7 at R9.
	LEAQ (SI)(BX*4), R9
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(BX*1), Y1
	VMOVUPS (SI)(BX*2), Y2
	VMOVUPS (SI)(R8*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(BX*1), Y5
	VMOVUPS (R9)(BX*2), Y6
	VMOVUPS (R9)(R8*1), Y7

	// Interleave row pairs: t0 = lo(r0,r1) ... (per 128-bit lane).
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Gather 4-row columns: s0 = columns 0|4 of rows 0-3, s1 = 1|5, ...
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Join the 128-bit halves of rows 0-3 and 4-7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	ADDQ    DX, DI
	VMOVUPS Y9, (DI)
	ADDQ    DX, DI
	VMOVUPS Y10, (DI)
	ADDQ    DX, DI
	VMOVUPS Y11, (DI)
	ADDQ    DX, DI
	VMOVUPS Y12, (DI)
	ADDQ    DX, DI
	VMOVUPS Y13, (DI)
	ADDQ    DX, DI
	VMOVUPS Y14, (DI)
	ADDQ    DX, DI
	VMOVUPS Y15, (DI)
	ADDQ    DX, DI

	ADDQ $32, SI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func copyRows8(dst, src *float32, lds, rows, chunks int)
//
// For q in [0, rows): copies 8·chunks floats from src + q·lds to dst + q·8·chunks, in 32-byte
// vector moves. This is packing a k×n operand that is already k-major into nr-wide panels
// (one k step's nr values per row): a fixed-size Go array copy of 64 or 128 bytes compiles
// to a call of runtime.memmove, whose call and size dispatch cost more than the copy and
// took 7% of a small GPT's training step.
TEXT ·copyRows8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), BX
	MOVQ rows+24(FP), CX
	MOVQ chunks+32(FP), DX
	SHLQ $2, BX
	TESTQ CX, CX
	JZ   copydone
	TESTQ DX, DX
	JZ   copydone

copyrow:
	MOVQ SI, R8
	MOVQ DX, R9

copychunk:
	VMOVUPS (R8), Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, R8
	ADDQ $32, DI
	DECQ R9
	JNZ  copychunk

	ADDQ BX, SI
	DECQ CX
	JNZ  copyrow

copydone:
	VZEROUPPER
	RET
