// Shared by the AVX2+FMA kernels. With only 16 YMM registers, constants are
// read as 32-byte memory operands (one L1 load each) rather than held in
// registers; these DATA blocks are local to each file that includes this.

#define CONST8(name, bits) \
	DATA name<>+0(SB)/4, $bits; \
	DATA name<>+4(SB)/4, $bits; \
	DATA name<>+8(SB)/4, $bits; \
	DATA name<>+12(SB)/4, $bits; \
	DATA name<>+16(SB)/4, $bits; \
	DATA name<>+20(SB)/4, $bits; \
	DATA name<>+24(SB)/4, $bits; \
	DATA name<>+28(SB)/4, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

CONST8(log2e, 0x3fb8aa3b)
CONST8(ln2hi, 0x3f317200)
CONST8(ln2lo, 0x35bfbe8e)
CONST8(c7, 0x39500d01)
CONST8(c6, 0x3ab60b61)
CONST8(c5, 0x3c088889)
CONST8(c4, 0x3d2aaaab)
CONST8(c3, 0x3e2aaaab)
CONST8(half, 0x3f000000)
CONST8(one, 0x3f800000) // also 127<<23, the exponent bias in place
CONST8(expLo, 0xc2d00000) // −104: e^x rounds to 0 below
CONST8(expHi, 0x42b20000) // 89: e^x overflows above

// tailMask: eight all-ones words then eight zeros; the 32 bytes at
// tailMask+32−4r select the first r lanes.
DATA tailMask<>+0(SB)/8, $-1
DATA tailMask<>+8(SB)/8, $-1
DATA tailMask<>+16(SB)/8, $-1
DATA tailMask<>+24(SB)/8, $-1
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
DATA tailMask<>+48(SB)/8, $0
DATA tailMask<>+56(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

// TAILMASK256 loads into m the mask of the first CX lanes (CX < 8);
// clobbers AX.
#define TAILMASK256(m) \
	LEAQ    tailMask<>+32(SB), AX; \
	SHLQ    $2, CX; \
	SUBQ    CX, AX; \
	SHRQ    $2, CX; \
	VMOVDQU (AX), m

// EXP256 sets p = e^x for x clamped to [−104, 89], overwriting x and k, as
// EXP512 does but without VSCALEFPS: 2^k is applied as 2^(k>>1)·2^(k−(k>>1)),
// two factors with normal exponents for k in [−150, 128], so the product
// still rounds only once (at the second multiply) into the subnormal range.
#define EXP256(x, k, p, t) \
	VMULPS       log2e<>(SB), x, k; \
	VROUNDPS     $0, k, k; \
	VFNMADD231PS ln2hi<>(SB), k, x; \
	VFNMADD231PS ln2lo<>(SB), k, x; \
	VMOVUPS      c7<>(SB), p; \
	VFMADD213PS  c6<>(SB), x, p; \
	VFMADD213PS  c5<>(SB), x, p; \
	VFMADD213PS  c4<>(SB), x, p; \
	VFMADD213PS  c3<>(SB), x, p; \
	VFMADD213PS  half<>(SB), x, p; \
	VFMADD213PS  one<>(SB), x, p; \
	VFMADD213PS  one<>(SB), x, p; \
	VCVTPS2DQ    k, k; \
	VPSRAD       $1, k, t; \
	VPSUBD       t, k, k; \
	VPSLLD       $23, t, t; \
	VPADDD       one<>(SB), t, t; \
	VPSLLD       $23, k, k; \
	VPADDD       one<>(SB), k, k; \
	VMULPS       t, p, p; \
	VMULPS       k, p, p
