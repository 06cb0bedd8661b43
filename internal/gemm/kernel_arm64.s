//go:build arm64 && !purego

#include "textflag.h"

// NEON micro-kernels on packed panels (see pack.go): per k step the A panel
// holds the tile's 8 rows contiguously (a[p*8+i]) and the B panel 12 columns
// (b[p*12+j]). The accumulators start at zero and sum k in order, so every
// output element is computed the same way in interior and edge tiles.
//
// The product is an outer product per k step: the 8 A values are loaded as two
// vectors and each accumulator (one row, four columns) takes a fused
// multiply-add of a B vector by one A lane, FMLA (by element). That needs no
// broadcast loads: two load instructions (5 quadword loads) feed 24 FMLAs,
// 96 flops, per k step of the 8×12 kernel.
//
// Registers (both kernels):
//   V0-V23   accumulators: row r, columns 4q..4q+3 in V(3r+q), q < 3
//            (the 8×8 narrow kernel uses q < 2 only)
//   V24, V25 A: rows 0-3, rows 4-7 of the current k step
//   V26-V28  B: columns 0-3, 4-7, 8-11 of the current k step
//   V29-V31  C rows read back when accumulating
//   R0 k, R1 A, R2 B (both post-incremented by the loads), R3 C row,
//   R4 ldc in bytes, R5 steps left over after the 4× unrolled loop,
//   R6 unrolled iterations, R8 B panel stride in bytes (narrow kernel).
// Accumulator row r's registers are consecutive, so one ST1 stores a C row.
// 24 independent accumulators exceed the FMA latency times the FMA pipes
// (4 cycles × 4 pipes = 16 on the widest cores), so the FMLAs need not wait on
// each other; the 5 operand registers are reloaded every step, relying on
// register renaming rather than double buffering (32 registers leave no room
// for a second set). Per k step the 8×12 loop issues 24 FMLAs, 2 loads and,
// amortised over the 4× unrolling, half a loop-control instruction.

// Go's assembler has no FMLA (by element) or vector FADD: they are encoded by
// hand. Arguments are register numbers.
//
// FMLA Vd.4S, Vn.4S, Vm.S[i]: Vd += Vn * Vm[i]. Encoding 0 Q=1 0 01111 1 0 L
// M Rm 0001 H 0 Rn Rd, the lane index i = H:L, Vm = M:Rm (any of V0-V31).
#define FMLA_LANE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | (((i)>>1)<<11) | ((m)<<16) | ((n)<<5) | (d))

// FADD Vd.4S, Vn.4S, Vm.4S: 0 Q=1 0 01110 0 0 1 Rm 110101 Rn Rd.
#define FADD4S(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))

// One row (accumulators acc..acc+2) += B (V26-V28) × lane i of A vector av.
#define ROW12(acc, av, i) \
	FMLA_LANE(acc, 26, av, i); \
	FMLA_LANE(acc+1, 27, av, i); \
	FMLA_LANE(acc+2, 28, av, i)

#define ROW8(acc, av, i) \
	FMLA_LANE(acc, 26, av, i); \
	FMLA_LANE(acc+1, 27, av, i)

// One k step: load A and B (advancing R1, R2), then the 8 rows.
#define STEP12 \
	VLD1.P 32(R1), [V24.S4, V25.S4]; \
	VLD1.P 48(R2), [V26.S4, V27.S4, V28.S4]; \
	ROW12(0, 24, 0); \
	ROW12(3, 24, 1); \
	ROW12(6, 24, 2); \
	ROW12(9, 24, 3); \
	ROW12(12, 25, 0); \
	ROW12(15, 25, 1); \
	ROW12(18, 25, 2); \
	ROW12(21, 25, 3)

// The narrow step reads the first 8 columns of the 12-wide B panel.
#define STEP8 \
	VLD1.P 32(R1), [V24.S4, V25.S4]; \
	VLD1.P (R2)(R8), [V26.S4, V27.S4]; \
	ROW8(0, 24, 0); \
	ROW8(3, 24, 1); \
	ROW8(6, 24, 2); \
	ROW8(9, 24, 3); \
	ROW8(12, 25, 0); \
	ROW8(15, 25, 1); \
	ROW8(18, 25, 2); \
	ROW8(21, 25, 3)

// Row of C (R3) = accumulators, or += them; then R3 advances by ldc (R4).
// The sum is accumulator + c, the same single rounding as the Go edge path.
#define SETROW12(v0, v1, v2) \
	VST1.P [v0.S4, v1.S4, v2.S4], (R3)(R4)

#define ADDROW12(n0, v0, v1, v2) \
	VLD1 (R3), [V29.S4, V30.S4, V31.S4]; \
	FADD4S(n0, n0, 29); \
	FADD4S(n0+1, n0+1, 30); \
	FADD4S(n0+2, n0+2, 31); \
	VST1.P [v0.S4, v1.S4, v2.S4], (R3)(R4)

#define SETROW8(v0, v1) \
	VST1.P [v0.S4, v1.S4], (R3)(R4)

#define ADDROW8(n0, v0, v1) \
	VLD1 (R3), [V29.S4, V30.S4]; \
	FADD4S(n0, n0, 29); \
	FADD4S(n0+1, n0+1, 30); \
	VST1.P [v0.S4, v1.S4], (R3)(R4)

#define ZERO(v) VEOR v.B16, v.B16, v.B16

// func kernel8x12NEON(k int, a, b, c *float32, ldc int, accumulate bool)
TEXT ·kernel8x12NEON(SB), NOSPLIT, $0-41
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	MOVD ldc+32(FP), R4
	LSL  $2, R4, R4

	ZERO(V0)
	ZERO(V1)
	ZERO(V2)
	ZERO(V3)
	ZERO(V4)
	ZERO(V5)
	ZERO(V6)
	ZERO(V7)
	ZERO(V8)
	ZERO(V9)
	ZERO(V10)
	ZERO(V11)
	ZERO(V12)
	ZERO(V13)
	ZERO(V14)
	ZERO(V15)
	ZERO(V16)
	ZERO(V17)
	ZERO(V18)
	ZERO(V19)
	ZERO(V20)
	ZERO(V21)
	ZERO(V22)
	ZERO(V23)

	LSR $2, R0, R6
	AND $3, R0, R5
	CBZ R6, tail12

loop12:
	STEP12
	STEP12
	STEP12
	STEP12
	SUBS $1, R6, R6
	BNE  loop12

tail12:
	CBZ R5, store12

loop12tail:
	STEP12
	SUBS $1, R5, R5
	BNE  loop12tail

store12:
	MOVBU accumulate+40(FP), R7
	CBZ   R7, set12
	ADDROW12(0, V0, V1, V2)
	ADDROW12(3, V3, V4, V5)
	ADDROW12(6, V6, V7, V8)
	ADDROW12(9, V9, V10, V11)
	ADDROW12(12, V12, V13, V14)
	ADDROW12(15, V15, V16, V17)
	ADDROW12(18, V18, V19, V20)
	ADDROW12(21, V21, V22, V23)
	RET

set12:
	SETROW12(V0, V1, V2)
	SETROW12(V3, V4, V5)
	SETROW12(V6, V7, V8)
	SETROW12(V9, V10, V11)
	SETROW12(V12, V13, V14)
	SETROW12(V15, V16, V17)
	SETROW12(V18, V19, V20)
	SETROW12(V21, V22, V23)
	RET

// func kernel8x8NEON(k int, a, b, c *float32, ldc int, accumulate bool)
//
// The narrow edge kernel: the first 8 columns of an 8×12 tile, B still read
// with the 12-column panel stride (R8 = 48 bytes). 16 FMLAs per k step.
TEXT ·kernel8x8NEON(SB), NOSPLIT, $0-41
	MOVD k+0(FP), R0
	MOVD a+8(FP), R1
	MOVD b+16(FP), R2
	MOVD c+24(FP), R3
	MOVD ldc+32(FP), R4
	LSL  $2, R4, R4
	MOVD $48, R8

	ZERO(V0)
	ZERO(V1)
	ZERO(V3)
	ZERO(V4)
	ZERO(V6)
	ZERO(V7)
	ZERO(V9)
	ZERO(V10)
	ZERO(V12)
	ZERO(V13)
	ZERO(V15)
	ZERO(V16)
	ZERO(V18)
	ZERO(V19)
	ZERO(V21)
	ZERO(V22)

	LSR $2, R0, R6
	AND $3, R0, R5
	CBZ R6, tail8

loop8:
	STEP8
	STEP8
	STEP8
	STEP8
	SUBS $1, R6, R6
	BNE  loop8

tail8:
	CBZ R5, store8

loop8tail:
	STEP8
	SUBS $1, R5, R5
	BNE  loop8tail

store8:
	MOVBU accumulate+40(FP), R7
	CBZ   R7, set8
	ADDROW8(0, V0, V1)
	ADDROW8(3, V3, V4)
	ADDROW8(6, V6, V7)
	ADDROW8(9, V9, V10)
	ADDROW8(12, V12, V13)
	ADDROW8(15, V15, V16)
	ADDROW8(18, V18, V19)
	ADDROW8(21, V21, V22)
	RET

set8:
	SETROW8(V0, V1)
	SETROW8(V3, V4)
	SETROW8(V6, V7)
	SETROW8(V9, V10)
	SETROW8(V12, V13)
	SETROW8(V15, V16)
	SETROW8(V18, V19)
	SETROW8(V21, V22)
	RET
