//go:build ignore

// gen_bf16_amd64.go writes bf16_avx512_amd64.s, the bfloat16 micro-kernels. Go's assembler has
// no AVX512-BF16 mnemonics, so VDPBF16PS is emitted as its EVEX bytes (encoded here, for the few
// operand forms the kernels use; the encodings were checked against GNU as 2.40).
//
//	go run gen_bf16_amd64.go
package main

import (
	"fmt"
	"os"
	"strings"
)

// Register numbers of the general-purpose registers the kernels address memory with.
var gpr = map[string]int{"AX": 0, "CX": 1, "DX": 2, "BX": 3, "SP": 4, "BP": 5, "SI": 6, "DI": 7,
	"R8": 8, "R9": 9, "R10": 10, "R11": 11, "R12": 12, "R13": 13, "R14": 14, "R15": 15}

// evex returns the 4-byte EVEX prefix for a 512-bit, W0, map-0F38 instruction with prefix pp
// (1 = 66, 2 = F3, 3 = F2), destination dst, first source v (vvvv) and, when rmReg >= 0, a
// vector register operand rm; otherwise a memory operand with base register base, with the
// broadcast bit bcst.
func evex(pp, dst, v, rmReg, base int, bcst bool) []byte {
	inv := func(bit int) byte { return byte(1 - bit&1) }
	var x, b byte
	if rmReg >= 0 {
		b, x = inv(rmReg>>3), inv(rmReg>>4)
	} else {
		b, x = inv(base>>3), 1
	}
	p0 := inv(dst>>3)<<7 | x<<6 | b<<5 | inv(dst>>4)<<4 | 2
	p1 := byte(^v&15)<<3 | 1<<2 | byte(pp)
	p2 := byte(2<<5) | inv(v>>4)<<3
	if bcst {
		p2 |= 1 << 4
	}
	return []byte{0x62, p0, p1, p2}
}

// mem returns ModRM (and SIB, displacement) for [base+disp] with EVEX disp8·N compression.
func mem(reg, base, disp, n int) []byte {
	var out []byte
	r := byte(reg & 7)
	bb := byte(base & 7)
	switch {
	case disp == 0 && bb != 5:
		out = append(out, r<<3|bb)
	case disp%n == 0 && disp/n >= -128 && disp/n < 128:
		out = append(out, 1<<6|r<<3|bb)
	default:
		out = append(out, 2<<6|r<<3|bb)
	}
	if bb == 4 {
		out = append(out, 0x24)
	}
	switch out[0] >> 6 {
	case 1:
		out = append(out, byte(int8(disp/n)))
	case 2:
		out = append(out, byte(disp), byte(disp>>8), byte(disp>>16), byte(disp>>24))
	}
	return out
}

// dpbf16Bcst is VDPBF16PS Z(acc) += Z(v) · broadcast(dword [base+disp]).
func dpbf16Bcst(acc, v int, base string, disp int) string {
	enc := append(evex(2, acc, v, -1, gpr[base], true), 0x52)
	enc = append(enc, mem(acc, gpr[base], disp, 4)...)
	return bytesLine(enc, fmt.Sprintf("VDPBF16PS.BCST %d(%s), Z%d, Z%d", disp, base, v, acc))
}

// dpbf16 is VDPBF16PS Z(acc) += Z(v) · Z(w).
func dpbf16(acc, v, w int) string {
	enc := append(evex(2, acc, v, w, 0, false), 0x52, byte(3<<6|(acc&7)<<3|(w&7)))
	return bytesLine(enc, fmt.Sprintf("VDPBF16PS Z%d, Z%d, Z%d", w, v, acc))
}

// cvtne2 is VCVTNE2PS2BF16 Z(dst) = [bf16(Z(lo)) in words 0-15, bf16(Z(hi)) in words 16-31].
func cvtne2(dst, hi, lo int) string {
	enc := append(evex(3, dst, hi, lo, 0, false), 0x72, byte(3<<6|(dst&7)<<3|(lo&7)))
	return bytesLine(enc, fmt.Sprintf("VCVTNE2PS2BF16 Z%d, Z%d, Z%d", lo, hi, dst))
}

// cvtne is VCVTNEPS2BF16 Y(dst) = bf16(Z(src)).
func cvtne(dst, src int) string {
	enc := append(evex(2, dst, 0, src, 0, false), 0x72, byte(3<<6|(dst&7)<<3|(src&7)))
	return bytesLine(enc, fmt.Sprintf("VCVTNEPS2BF16 Z%d, Y%d", src, dst))
}

// pairUp converts Z(lo) and Z(hi), 16 floats each, to bf16 in Y(dl) and Y(dh), and stores the 16
// pairs bf16(lo[j]) | bf16(hi[j])<<16 at dst.
func pairUp(dl, lo, dh, hi int, dst string) string {
	return cvtne(dl, lo) + cvtne(dh, hi) + fmt.Sprintf(`	VPMOVZXWD Y%[1]d, Z%[1]d
	VPMOVZXWD Y%[2]d, Z%[2]d
	VPSLLD $16, Z%[2]d, Z%[2]d
	VPORD Z%[2]d, Z%[1]d, Z%[1]d
	VMOVDQU32 Z%[1]d, %[3]s
`, dl, dh, dst)
}

func bytesLine(enc []byte, comment string) string {
	var parts []string
	for _, x := range enc {
		parts = append(parts, fmt.Sprintf("BYTE $0x%02x", x))
	}
	return "\t" + strings.Join(parts, "; ") + " // " + comment + "\n"
}

// kernel writes the mr×32 kernel: accumulators Z0..Z(2mr-1), row r in Z(2r) (columns 0-15) and
// Z(2r+1) (16-31); Z30, Z31 hold the B pair row.
func kernel(w *strings.Builder, mr int) {
	name := fmt.Sprintf("bf16Kernel%dx32AVX512", mr)
	fmt.Fprintf(w, "// func %s(kp int, a, b *uint32, c *float32, ldc int, accumulate bool)\n", name)
	fmt.Fprintf(w, "TEXT ·%s(SB), NOSPLIT, $0-41\n", name)
	w.WriteString("\tMOVQ kp+0(FP), CX\n\tMOVQ a+8(FP), SI\n\tMOVQ b+16(FP), DI\n\tMOVQ c+24(FP), DX\n\tMOVQ ldc+32(FP), BX\n\tSHLQ $2, BX\n")
	// Prefetch the C tile, as the float32 kernels do.
	w.WriteString("\tMOVQ DX, AX\n")
	for r := 0; r < mr; r++ {
		w.WriteString("\tPREFETCHT0 (AX)\n\tPREFETCHT0 127(AX)\n")
		if r < mr-1 {
			w.WriteString("\tADDQ BX, AX\n")
		}
	}
	for z := 0; z < 2*mr; z++ {
		fmt.Fprintf(w, "\tVPXORD Z%d, Z%d, Z%d\n", z, z, z)
	}
	fmt.Fprintf(w, "loop%d:\n", mr)
	w.WriteString("\tVMOVUPS (DI), Z30\n\tVMOVUPS 64(DI), Z31\n")
	for r := 0; r < mr; r++ {
		w.WriteString(dpbf16Bcst(2*r, 30, "SI", 4*r))
		w.WriteString(dpbf16Bcst(2*r+1, 31, "SI", 4*r))
	}
	fmt.Fprintf(w, "\tADDQ $%d, SI\n\tADDQ $128, DI\n\tDECQ CX\n\tJNZ loop%d\n", 4*mr, mr)
	w.WriteString("\tMOVBLZX accumulate+40(FP), AX\n\tTESTQ AX, AX\n")
	fmt.Fprintf(w, "\tJZ store%d\n", mr)
	for r := 0; r < mr; r++ {
		fmt.Fprintf(w, "\tVADDPS (DX), Z%d, Z%d\n\tVADDPS 64(DX), Z%d, Z%d\n", 2*r, 2*r, 2*r+1, 2*r+1)
		fmt.Fprintf(w, "\tVMOVUPS Z%d, (DX)\n\tVMOVUPS Z%d, 64(DX)\n", 2*r, 2*r+1)
		if r < mr-1 {
			w.WriteString("\tADDQ BX, DX\n")
		}
	}
	w.WriteString("\tVZEROUPPER\n\tRET\n")
	fmt.Fprintf(w, "store%d:\n", mr)
	for r := 0; r < mr; r++ {
		fmt.Fprintf(w, "\tVMOVUPS Z%d, (DX)\n\tVMOVUPS Z%d, 64(DX)\n", 2*r, 2*r+1)
		if r < mr-1 {
			w.WriteString("\tADDQ BX, DX\n")
		}
	}
	w.WriteString("\tVZEROUPPER\n\tRET\n\n")
}

// dots writes dotsBF16DPx<rows>: the dot products of rows (1 or 4) rows of bf16 pairs with n bf16
// weight rows, k halves (a multiple of 32) each, in two chains (even and odd 64-byte chunks; a
// last odd chunk goes to the first), added, then the 16 lanes summed in a fixed tree: the same
// order in both forms, so a row's outputs do not depend on the rows beside it.
func dots(w *strings.Builder, rows int) {
	name := fmt.Sprintf("dotsBF16DPx%d", rows)
	rowReg := []string{"SI", "R13", "R12", "R14"}
	fmt.Fprintf(w, "// func %s(k int, a *uint32, lda int, w *uint16, ldw, n int, c *float32, ldc int)\n", name)
	fmt.Fprintf(w, "TEXT ·%s(SB), NOSPLIT, $0-64\n", name)
	w.WriteString(`	MOVQ k+0(FP), R8
	SHLQ $1, R8
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	SHLQ $2, R9
	MOVQ w+24(FP), DI
	MOVQ ldw+32(FP), R10
	SHLQ $1, R10
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R11
	SHLQ $2, R11
	LEAQ (SI)(R9*1), R13
	LEAQ (SI)(R9*2), R12
	LEAQ (R12)(R9*1), R14
`)
	fmt.Fprintf(w, "col%d:\n", rows)
	for z := 0; z < 2*rows; z++ {
		fmt.Fprintf(w, "\tVPXORD Z%d, Z%d, Z%d\n", z, z, z)
	}
	fmt.Fprintf(w, "\tXORQ AX, AX\n\tMOVQ R8, BX\n\tSHRQ $7, BX\n\tJZ tail%d\n", rows)
	fmt.Fprintf(w, "loop%d:\n", rows)
	w.WriteString("\tVMOVDQU32 (DI)(AX*1), Z16\n\tVMOVDQU32 64(DI)(AX*1), Z17\n")
	for r := 0; r < rows; r++ {
		fmt.Fprintf(w, "\tVMOVDQU32 (%s)(AX*1), Z%d\n\tVMOVDQU32 64(%s)(AX*1), Z%d\n", rowReg[r], 8+2*r, rowReg[r], 9+2*r)
	}
	for r := 0; r < rows; r++ {
		w.WriteString(dpbf16(2*r, 8+2*r, 16))
		w.WriteString(dpbf16(2*r+1, 9+2*r, 17))
	}
	fmt.Fprintf(w, "\tADDQ $128, AX\n\tDECQ BX\n\tJNZ loop%d\n", rows)
	fmt.Fprintf(w, "tail%d:\n\tCMPQ AX, R8\n\tJGE done%d\n", rows, rows)
	w.WriteString("\tVMOVDQU32 (DI)(AX*1), Z16\n")
	for r := 0; r < rows; r++ {
		fmt.Fprintf(w, "\tVMOVDQU32 (%s)(AX*1), Z%d\n", rowReg[r], 8+2*r)
		w.WriteString(dpbf16(2*r, 8+2*r, 16))
	}
	fmt.Fprintf(w, "done%d:\n\tMOVQ DX, BX\n", rows)
	for r := 0; r < rows; r++ {
		a := 2 * r
		fmt.Fprintf(w, "\tVADDPS Z%d, Z%d, Z%d\n", a+1, a, a)
		fmt.Fprintf(w, "\tVEXTRACTF64X4 $1, Z%d, Y15\n\tVADDPS Y15, Y%d, Y%d\n", a, a, a)
		fmt.Fprintf(w, "\tVEXTRACTF128 $1, Y%d, X15\n\tVADDPS X15, X%d, X%d\n", a, a, a)
		fmt.Fprintf(w, "\tVPERMILPS $0x4E, X%d, X15\n\tVADDPS X15, X%d, X%d\n", a, a, a)
		fmt.Fprintf(w, "\tVPERMILPS $0xB1, X%d, X15\n\tVADDPS X15, X%d, X%d\n", a, a, a)
		fmt.Fprintf(w, "\tVMOVSS X%d, (BX)\n", a)
		if r < rows-1 {
			w.WriteString("\tADDQ R11, BX\n")
		}
	}
	fmt.Fprintf(w, "\tADDQ R10, DI\n\tADDQ $4, DX\n\tDECQ CX\n\tJNZ col%d\n\tVZEROUPPER\n\tRET\n\n", rows)
}

func main() {
	var w strings.Builder
	w.WriteString(`// Code generated by gen_bf16_amd64.go; DO NOT EDIT.

//go:build amd64 && !purego

#include "textflag.h"

// bfloat16 micro-kernels on VDPBF16PS (AVX512-BF16). A and B are packed panels of bf16 pairs,
// one uint32 per (row or column, k pair): the low half holds k = 2q, the high half k = 2q+1.
// A's panel holds mr dwords per pair (row r at byte 4r), B's 32 (128 bytes). Each VDPBF16PS
// adds, per float32 lane, the pair's two products to the accumulator; the accumulators start at
// zero, so every output element is summed the same way in every tile, whichever kernel and
// however the tiles are spread over workers. The C tile is then set, or added to with one
// VADDPS, as the float32 kernels do.

`)
	kernel(&w, 8)
	kernel(&w, 12)
	dots(&w, 4)
	dots(&w, 1)
	w.WriteString(`// func cvtPairsBF16(dst *uint32, src *float32, chunks int)
// dst[q] = bf16(src[2q]) | bf16(src[2q+1])<<16 for q < 16·chunks: 32 floats a step.
TEXT ·cvtPairsBF16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ chunks+16(FP), CX
cvtloop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
`)
	w.WriteString(cvtne2(2, 1, 0))
	w.WriteString(`	VMOVDQU32 Z2, (DI)
	ADDQ $128, SI
	ADDQ $64, DI
	DECQ CX
	JNZ cvtloop
	VZEROUPPER
	RET

// func pairRowsBF16(dst *uint32, r0, r1 *float32, chunks int)
// dst[j] = bf16(r0[j]) | bf16(r1[j])<<16 for j < 16·chunks.
TEXT ·pairRowsBF16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ chunks+24(FP), CX
pairloop:
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
`)
	w.WriteString(pairUp(2, 0, 3, 1, "(DI)"))
	w.WriteString(`	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ pairloop
	VZEROUPPER
	RET
`)
	w.WriteString(cvtRowsPanel())
	w.WriteString(`
// func pairRowsPanelsBF16(dst *uint32, r0, r1 *float32, chunks, stride int)
// pairRowsBF16 into 8-row A panels stride dwords apart: the pair of element j to
// dst[(j/8)·stride + j%8], for j < 16·chunks (a transposed A's pair of rows, packed straight
// into the panels of a row block).
TEXT ·pairRowsPanelsBF16(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ chunks+24(FP), CX
	MOVQ stride+32(FP), BX
	SHLQ $2, BX
panelsloop:
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
`)
	w.WriteString(cvtne(2, 0) + cvtne(3, 1) + `	VPMOVZXWD Y2, Z2
	VPMOVZXWD Y3, Z3
	VPSLLD $16, Z3, Z3
	VPORD Z3, Z2, Z2
	VMOVDQU32 Y2, (DI)
	VEXTRACTI64X4 $1, Z2, (DI)(BX*1)
	ADDQ $64, SI
	ADDQ $64, DX
	LEAQ (DI)(BX*2), DI
	DECQ CX
	JNZ panelsloop
	VZEROUPPER
	RET
`)
	w.WriteString(`
// func pairPanelBF16(dst *uint32, b *float32, ldb, kpairs int)
// A full 32-column panel of bf16 pairs from k×n B: for q < kpairs, dst[32q+j] =
// bf16(b[2q·ldb+j]) | bf16(b[(2q+1)·ldb+j])<<16 for j < 32 (ldb in floats).
TEXT ·pairPanelBF16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), BX
	SHLQ $2, BX
	MOVQ kpairs+24(FP), CX
panelloop:
	LEAQ (SI)(BX*1), DX
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z4
	VMOVUPS (DX), Z1
	VMOVUPS 64(DX), Z5
`)
	w.WriteString(pairUp(2, 0, 3, 1, "(DI)"))
	w.WriteString(pairUp(6, 4, 7, 5, "64(DI)"))
	w.WriteString(`	LEAQ (SI)(BX*2), SI
	ADDQ $128, DI
	DECQ CX
	JNZ panelloop
	VZEROUPPER
	RET
`)
	if err := os.WriteFile("bf16_avx512_amd64.s", []byte(w.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// cvtRowsPanel writes cvtRowsPanelBF16: 8 rows of a row-major A, 32 floats of each per step,
// converted to 16 bf16 pairs (VCVTNE2PS2BF16) and transposed in registers into the 8-row panel
// layout (pair q of row r at dword 8q+r), 128 dwords a step.
func cvtRowsPanel() string {
	var b strings.Builder
	b.WriteString(`
// func cvtRowsPanelBF16(dst *uint32, a *float32, lda, chunks int)
// An 8-row A panel from row-major A: dst[8q+r] = bf16(a[r·lda+2q]) | bf16(a[r·lda+2q+1])<<16
// for r < 8, q < 16·chunks (lda in floats). Each step converts 32 floats of each row into a
// register of 16 pairs (Z0-Z7), then transposes the 8×16 dwords: dword pairs of rows (T,
// Z8-Z15), quadword pairs (U, Z16-Z23: pair 4l+c of rows 0-3 or 4-7 in lane l of U(c) or U(c+4)),
// lanes of two U joined by VPERMI2Q (W: pairs c and c+4, or c+8 and c+12, each 8 rows), and
// two W's halves joined by VSHUFI64X2 into the output's 8 registers of two pairs each.
TEXT ·cvtRowsPanelBF16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), BX
	SHLQ $2, BX
	MOVQ chunks+24(FP), CX
	LEAQ (BX)(BX*2), R8 // 3 rows
	VMOVDQU64 ·cvtRowsIdxLo<>(SB), Z30
	VMOVDQU64 ·cvtRowsIdxHi<>(SB), Z31
rowsloop:
	LEAQ (SI)(BX*4), R9 // rows 4-7
`)
	rows := []string{"(SI)", "(SI)(BX*1)", "(SI)(BX*2)", "(SI)(R8*1)", "(R9)", "(R9)(BX*1)", "(R9)(BX*2)", "(R9)(R8*1)"}
	for r, addr := range rows {
		hi := strings.Replace(addr, "(", "64(", 1)
		fmt.Fprintf(&b, "\tVMOVUPS %s, Z24\n\tVMOVUPS %s, Z25\n", addr, hi)
		b.WriteString(cvtne2(r, 25, 24))
	}
	for r := 0; r < 8; r += 2 {
		fmt.Fprintf(&b, "\tVPUNPCKLDQ Z%d, Z%d, Z%d\n", r+1, r, 8+r)
		fmt.Fprintf(&b, "\tVPUNPCKHDQ Z%d, Z%d, Z%d\n", r+1, r, 9+r)
	}
	for h := 0; h < 2; h++ { // rows 0-3 (T8-T11 → U16-U19), rows 4-7 (T12-T15 → U20-U23)
		t, u := 8+4*h, 16+4*h
		fmt.Fprintf(&b, "\tVPUNPCKLQDQ Z%d, Z%d, Z%d\n", t+2, t, u)
		fmt.Fprintf(&b, "\tVPUNPCKHQDQ Z%d, Z%d, Z%d\n", t+2, t, u+1)
		fmt.Fprintf(&b, "\tVPUNPCKLQDQ Z%d, Z%d, Z%d\n", t+3, t+1, u+2)
		fmt.Fprintf(&b, "\tVPUNPCKHQDQ Z%d, Z%d, Z%d\n", t+3, t+1, u+3)
	}
	// W(c) lo in Z(8+c): pairs c and c+4; W(c) hi in Z(12+c): pairs c+8 and c+12.
	for c := 0; c < 4; c++ {
		fmt.Fprintf(&b, "\tVMOVDQA64 Z30, Z%d\n\tVPERMI2Q Z%d, Z%d, Z%d\n", 8+c, 20+c, 16+c, 8+c)
		fmt.Fprintf(&b, "\tVMOVDQA64 Z31, Z%d\n\tVPERMI2Q Z%d, Z%d, Z%d\n", 12+c, 20+c, 16+c, 12+c)
	}
	// Output register k holds pairs 2k and 2k+1.
	for _, o := range []struct{ lo, hi, imm, k int }{
		{8, 9, 0x44, 0}, {8, 9, 0xee, 2}, {10, 11, 0x44, 1}, {10, 11, 0xee, 3},
		{12, 13, 0x44, 4}, {12, 13, 0xee, 6}, {14, 15, 0x44, 5}, {14, 15, 0xee, 7},
	} {
		fmt.Fprintf(&b, "\tVSHUFI64X2 $0x%02x, Z%d, Z%d, Z%d\n", o.imm, o.hi, o.lo, o.k)
	}
	for k := 0; k < 8; k++ {
		fmt.Fprintf(&b, "\tVMOVDQU32 Z%d, %d(DI)\n", k, 64*k)
	}
	b.WriteString(`	ADDQ $128, SI
	ADDQ $512, DI
	DECQ CX
	JNZ rowsloop
	VZEROUPPER
	RET

// VPERMI2Q indices: lanes 0 of two registers, then lanes 1 (lo); lanes 2, then 3 (hi).
`)
	for _, t := range []struct {
		name string
		idx  [8]int
	}{{"Lo", [8]int{0, 1, 8, 9, 2, 3, 10, 11}}, {"Hi", [8]int{4, 5, 12, 13, 6, 7, 14, 15}}} {
		for i, v := range t.idx {
			fmt.Fprintf(&b, "DATA ·cvtRowsIdx%s<>+%d(SB)/8, $%d\n", t.name, 8*i, v)
		}
		fmt.Fprintf(&b, "GLOBL ·cvtRowsIdx%s<>(SB), RODATA, $64\n", t.name)
	}
	return b.String()
}
