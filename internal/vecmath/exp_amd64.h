// Shared by the AVX-512 kernels that need e^x (exp, both GELUs).
//
// e^x = 2^k·e^r with k = round(x·log2 e) (to even) and r = x − k·ln2 in two
// parts, e^r from its Taylor series to r^7 (as tensor/fastmath.go), and the
// scaling by 2^k done by VSCALEFPS, which rounds once into the subnormal
// range and saturates to 0 or +Inf, so no range checks are needed beyond
// clamping x to [−104, 89] (which keeps r finite for x = ±Inf).

// EXP512_CONSTS loads the constants EXP512 reads into Z16-Z25.
#define EXP512_CONSTS \
	MOVL $0x3fb8aa3b, AX; VPBROADCASTD AX, Z16; /* log2 e */ \
	MOVL $0x3f317200, AX; VPBROADCASTD AX, Z17; /* ln2Hi */ \
	MOVL $0x35bfbe8e, AX; VPBROADCASTD AX, Z18; /* ln2Lo */ \
	MOVL $0x39500d01, AX; VPBROADCASTD AX, Z19; /* 1/7! */ \
	MOVL $0x3ab60b61, AX; VPBROADCASTD AX, Z20; /* 1/6! */ \
	MOVL $0x3c088889, AX; VPBROADCASTD AX, Z21; /* 1/5! */ \
	MOVL $0x3d2aaaab, AX; VPBROADCASTD AX, Z22; /* 1/4! */ \
	MOVL $0x3e2aaaab, AX; VPBROADCASTD AX, Z23; /* 1/3! */ \
	MOVL $0x3f000000, AX; VPBROADCASTD AX, Z24; /* 1/2 */ \
	MOVL $0x3f800000, AX; VPBROADCASTD AX, Z25  /* 1 */

// EXP512 sets p = e^x for x already clamped to [−104, 89]; it overwrites x
// (with r) and k.
#define EXP512(x, k, p) \
	VMULPS Z16, x, k; \
	VRNDSCALEPS $0, k, k; \
	VFNMADD231PS Z17, k, x; \
	VFNMADD231PS Z18, k, x; \
	VMOVAPS Z19, p; \
	VFMADD213PS Z20, x, p; \
	VFMADD213PS Z21, x, p; \
	VFMADD213PS Z22, x, p; \
	VFMADD213PS Z23, x, p; \
	VFMADD213PS Z24, x, p; \
	VFMADD213PS Z25, x, p; \
	VFMADD213PS Z25, x, p; \
	VSCALEFPS k, p, p

// TAILMASK sets mask to the low CX bits (CX < 16); clobbers AX.
#define TAILMASK(mask) \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, mask
