// Reductions shared by the compact kernels.

// SUM8 leaves in the low float of xacc (the XMM half of acc) acc's 8 lanes added in the order
// ((l0+l4) + (l2+l6)) + ((l1+l5) + (l3+l7)), as dot does; xtmp is clobbered.
#define SUM8(acc, xacc, xtmp) \
	VEXTRACTF128 $1, acc, xtmp; \
	VADDPS       xtmp, xacc, xacc; \
	VMOVHLPS     xacc, xacc, xtmp; \
	VADDPS       xtmp, xacc, xacc; \
	VMOVSHDUP    xacc, xtmp; \
	VADDSS       xtmp, xacc, xacc

// SUM16 leaves in the low float of xacc the 16 lanes of zacc (whose YMM half is yacc) added: the
// high 8 lanes to the low 8, then SUM8; ytmp and xtmp (its XMM half) are clobbered.
#define SUM16(zacc, yacc, xacc, ytmp, xtmp) \
	VEXTRACTF64X4 $1, zacc, ytmp; \
	VADDPS        ytmp, yacc, yacc; \
	SUM8(yacc, xacc, xtmp)

// ROWS4_PROLOGUE loads the arguments of a four-row kernel (k, a, lda, w, ldw, n, c, ldc): A's
// rows at SI, R11, R12, R13, lda and ldc in bytes (DX, R14), C's rows at DI, DI+R14, DI+2·R14,
// DI+R15, the weights at R8 with ldw (R9, in elements) and n (R10); CX is k in elements.
#define ROWS4_PROLOGUE \
	MOVQ k+0(FP), CX; \
	MOVQ a+8(FP), SI; \
	MOVQ lda+16(FP), DX; \
	MOVQ w+24(FP), R8; \
	MOVQ ldw+32(FP), R9; \
	MOVQ n+40(FP), R10; \
	MOVQ c+48(FP), DI; \
	MOVQ ldc+56(FP), R14; \
	SHLQ $2, DX; \
	SHLQ $2, R14; \
	LEAQ (SI)(DX*1), R11; \
	LEAQ (R11)(DX*1), R12; \
	LEAQ (R12)(DX*1), R13; \
	LEAQ (R14)(R14*2), R15

