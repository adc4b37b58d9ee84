//go:build amd64 && !purego

#include "textflag.h"

// AVX2 lane kernels for the quantiser (quantfast.go), for CPUs without
// AVX-512: whole rows of 16 lanes only (the Go wrappers send ragged edges
// to the Go kernels, since AVX2 has no byte-masked store). Rounding is
// VCVTPD2DQ under the MXCSR Go runs with (round to nearest, ties to even),
// the same as math.RoundToEven on the same float64 product; float64 to
// float32 is VCVTPD2PS under the same mode, Go's conversion.

// NEAR16BY turns 4+4+4+4 float64 lanes (Y1..Y4) into 16 int8s stored at
// out(DI): times the factors f1..f4 (registers or memory), rounded, clamped
// to [-64, 64] (X10, X11), narrowed with saturation (exact: the values
// already fit). NEAR16 takes the factors from Y12..Y15.
#define NEAR16BY(f1, f2, f3, f4, out) \
	VMULPD     f1, Y1, Y1  \
	VMULPD     f2, Y2, Y2  \
	VMULPD     f3, Y3, Y3  \
	VMULPD     f4, Y4, Y4  \
	VCVTPD2DQY Y1, X1      \
	VCVTPD2DQY Y2, X2      \
	VCVTPD2DQY Y3, X3      \
	VCVTPD2DQY Y4, X4      \
	VPMINSD    X10, X1, X1 \
	VPMINSD    X10, X2, X2 \
	VPMINSD    X10, X3, X3 \
	VPMINSD    X10, X4, X4 \
	VPMAXSD    X11, X1, X1 \
	VPMAXSD    X11, X2, X2 \
	VPMAXSD    X11, X3, X3 \
	VPMAXSD    X11, X4, X4 \
	VPACKSSDW  X2, X1, X1  \
	VPACKSSDW  X4, X3, X3  \
	VPACKSSWB  X3, X1, X1  \
	VMOVDQU    X1, out(DI)

#define NEAR16 NEAR16BY(Y12, Y13, Y14, Y15, 0)

#define NEAR_SETUP \
	MOVQ dst+0(FP), DI   \
	MOVQ ds+8(FP), BX    \
	MOVQ src+16(FP), SI  \
	MOVQ ss+24(FP), DX   \
	MOVQ rows+32(FP), CX \
	MOVQ inv+40(FP), R8  \
	VMOVUPD (R8), Y12    \
	VMOVUPD 32(R8), Y13  \
	VMOVUPD 64(R8), Y14  \
	VMOVUPD 96(R8), Y15  \
	MOVL $64, AX         \
	MOVL AX, X10         \
	VPBROADCASTD X10, X10 \
	MOVL $-64, AX        \
	MOVL AX, X11         \
	VPBROADCASTD X11, X11

// func nearRows32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64)
TEXT ·nearRows32AVX2(SB), NOSPLIT, $0-48
	NEAR_SETUP
	SHLQ $2, DX
	TESTQ CX, CX
	JLE  near32done

near32loop:
	VCVTPS2PD (SI), Y1
	VCVTPS2PD 16(SI), Y2
	VCVTPS2PD 32(SI), Y3
	VCVTPS2PD 48(SI), Y4
	NEAR16
	ADDQ DX, SI
	ADDQ BX, DI
	DECQ CX
	JNZ  near32loop

near32done:
	VZEROUPPER
	RET

// func nearRows64AVX2(dst *int8, ds int, src *float64, ss, rows int, inv *[16]float64)
TEXT ·nearRows64AVX2(SB), NOSPLIT, $0-48
	NEAR_SETUP
	SHLQ $3, DX
	TESTQ CX, CX
	JLE  near64done

near64loop:
	VMOVUPD (SI), Y1
	VMOVUPD 32(SI), Y2
	VMOVUPD 64(SI), Y3
	VMOVUPD 96(SI), Y4
	NEAR16
	ADDQ DX, SI
	ADDQ BX, DI
	DECQ CX
	JNZ  near64loop

near64done:
	VZEROUPPER
	RET

// func absmaxRows32AVX2(src *float32, stride, rows int, acc *[16]uint32)
// acc[l] = max over rows of the magnitude bits of lane l (rows ≥ 1).
TEXT ·absmaxRows32AVX2(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+16(FP), CX
	MOVQ acc+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVL $0x7fffffff, AX
	MOVL AX, X2
	VPBROADCASTD X2, Y2

abs32loop:
	VPAND   (SI), Y2, Y3
	VPAND   32(SI), Y2, Y4
	VPMAXUD Y3, Y0, Y0
	VPMAXUD Y4, Y1, Y1
	ADDQ DX, SI
	DECQ CX
	JNZ  abs32loop

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VZEROUPPER
	RET

// func absmaxRows64AVX2(src *float64, stride, rows int, acc *[16]uint64)
// The magnitudes' bits are below 2⁶³, so a signed compare orders them.
TEXT ·absmaxRows64AVX2(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $3, DX
	MOVQ rows+16(FP), CX
	MOVQ acc+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	MOVQ $0x7fffffffffffffff, AX
	MOVQ AX, X15
	VPBROADCASTQ X15, Y15

abs64loop:
	VPAND     (SI), Y15, Y4
	VPAND     32(SI), Y15, Y5
	VPAND     64(SI), Y15, Y6
	VPAND     96(SI), Y15, Y7
	VPCMPGTQ  Y0, Y4, Y8
	VPBLENDVB Y8, Y4, Y0, Y0
	VPCMPGTQ  Y1, Y5, Y8
	VPBLENDVB Y8, Y5, Y1, Y1
	VPCMPGTQ  Y2, Y6, Y8
	VPBLENDVB Y8, Y6, Y2, Y2
	VPCMPGTQ  Y3, Y7, Y8
	VPBLENDVB Y8, Y7, Y3, Y3
	ADDQ DX, SI
	DECQ CX
	JNZ  abs64loop

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VZEROUPPER
	RET

// func dequantRow32AVX2(y *float32, c *int32, sb *float64, s float64, blocks int, incr bool)
// For blocks of 8 entries: y[j] (+)= float32(float64(c[j]) · (s·sb[j])).
TEXT ·dequantRow32AVX2(SB), NOSPLIT, $0-41
	MOVQ y+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ sb+16(FP), R8
	VBROADCASTSD s+24(FP), Y15
	MOVQ blocks+32(FP), CX
	MOVBLZX incr+40(FP), AX
	TESTQ CX, CX
	JLE  deq32done

deq32loop:
	VMULPD     (R8), Y15, Y2
	VMULPD     32(R8), Y15, Y3
	VCVTDQ2PD  (SI), Y0
	VCVTDQ2PD  16(SI), Y1
	VMULPD     Y2, Y0, Y0
	VMULPD     Y3, Y1, Y1
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	TESTQ AX, AX
	JZ    deq32store
	VADDPS (DI), X0, X0
	VADDPS 16(DI), X1, X1

deq32store:
	VMOVUPS X0, (DI)
	VMOVUPS X1, 16(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $64, R8
	DECQ CX
	JNZ  deq32loop

deq32done:
	VZEROUPPER
	RET

// func dequantRow64AVX2(y *float64, c *int32, sb *float64, s float64, blocks int, incr bool)
TEXT ·dequantRow64AVX2(SB), NOSPLIT, $0-41
	MOVQ y+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ sb+16(FP), R8
	VBROADCASTSD s+24(FP), Y15
	MOVQ blocks+32(FP), CX
	MOVBLZX incr+40(FP), AX
	TESTQ CX, CX
	JLE  deq64done

deq64loop:
	VMULPD    (R8), Y15, Y2
	VMULPD    32(R8), Y15, Y3
	VCVTDQ2PD (SI), Y0
	VCVTDQ2PD 16(SI), Y1
	VMULPD    Y2, Y0, Y0
	VMULPD    Y3, Y1, Y1
	TESTQ AX, AX
	JZ    deq64store
	VADDPD (DI), Y0, Y0
	VADDPD 32(DI), Y1, Y1

deq64store:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ $64, DI
	ADDQ $32, SI
	ADDQ $64, R8
	DECQ CX
	JNZ  deq64loop

deq64done:
	VZEROUPPER
	RET

// STORE8 writes the four 8-byte rows of r (x, its low lane): columns c and
// c+1 to rows AX and AX+os, columns c+16 and c+17 to AX+16·os and AX+17·os;
// then moves AX on two rows.
#define STORE8(r, x) \
	VMOVQ        x, (AX)          \
	VPEXTRQ      $1, x, (AX)(R9*1) \
	VEXTRACTI128 $1, r, X0        \
	VMOVQ        X0, (AX)(R10*1)  \
	VPEXTRQ      $1, X0, (AX)(R11*1) \
	LEAQ         (AX)(R9*2), AX

// func transposeTileAVX2(dst *int8, os int, src *[4096]int8, jw, iw int)
// dst[l·os+j] = src[j·64+l] for j < jw and l < iw, jw a positive multiple
// of 8 and iw of 32 (a whole tile: 16 blocks), in blocks of 8 source rows ×
// 32 columns. Three rounds of in-lane unpacks (bytes, words, dwords) turn
// the 8 rows into 8 registers whose 128-bit lanes each hold two output rows
// of 8 bytes: register g holds columns 2g and 2g+1 of the block's left 16
// columns in its low lane and columns 2g+16, 2g+17 in its high lane. The
// rounds ping-pong between Y0–Y7 and Y8–Y15, so no register is spilled.
TEXT ·transposeTileAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ os+8(FP), R9
	MOVQ src+16(FP), SI
	MOVQ jw+24(FP), R12
	MOVQ iw+32(FP), R13
	MOVQ R9, R10
	SHLQ $4, R10        // 16 rows of dst
	LEAQ (R10)(R9*1), R11 // 17 rows
	XORQ DX, DX         // j0: source row of the block

trrows:
	XORQ CX, CX         // l0: a multiple of 32

trcols:
	// BX = src + j0·64 + l0; AX = dst + l0·os + j0
	MOVQ DX, BX
	SHLQ $6, BX
	ADDQ CX, BX
	ADDQ SI, BX
	MOVQ CX, AX
	IMULQ R9, AX
	ADDQ DX, AX
	ADDQ DI, AX
	VMOVDQU (BX), Y0
	VMOVDQU 64(BX), Y1
	VMOVDQU 128(BX), Y2
	VMOVDQU 192(BX), Y3
	VMOVDQU 256(BX), Y4
	VMOVDQU 320(BX), Y5
	VMOVDQU 384(BX), Y6
	VMOVDQU 448(BX), Y7
	// bytes: rows (0,1) (2,3) (4,5) (6,7)
	VPUNPCKLBW Y1, Y0, Y8
	VPUNPCKHBW Y1, Y0, Y9
	VPUNPCKLBW Y3, Y2, Y10
	VPUNPCKHBW Y3, Y2, Y11
	VPUNPCKLBW Y5, Y4, Y12
	VPUNPCKHBW Y5, Y4, Y13
	VPUNPCKLBW Y7, Y6, Y14
	VPUNPCKHBW Y7, Y6, Y15
	// words: four rows of columns 0–3, 4–7, 8–11, 12–15
	VPUNPCKLWD Y10, Y8, Y0
	VPUNPCKHWD Y10, Y8, Y1
	VPUNPCKLWD Y11, Y9, Y2
	VPUNPCKHWD Y11, Y9, Y3
	VPUNPCKLWD Y14, Y12, Y4
	VPUNPCKHWD Y14, Y12, Y5
	VPUNPCKLWD Y15, Y13, Y6
	VPUNPCKHWD Y15, Y13, Y7
	// dwords: eight rows of two columns each
	VPUNPCKLDQ Y4, Y0, Y8
	VPUNPCKHDQ Y4, Y0, Y9
	VPUNPCKLDQ Y5, Y1, Y10
	VPUNPCKHDQ Y5, Y1, Y11
	VPUNPCKLDQ Y6, Y2, Y12
	VPUNPCKHDQ Y6, Y2, Y13
	VPUNPCKLDQ Y7, Y3, Y14
	VPUNPCKHDQ Y7, Y3, Y15
	STORE8(Y8, X8)
	STORE8(Y9, X9)
	STORE8(Y10, X10)
	STORE8(Y11, X11)
	STORE8(Y12, X12)
	STORE8(Y13, X13)
	STORE8(Y14, X14)
	STORE8(Y15, X15)
	ADDQ $32, CX
	CMPQ CX, R13
	JLT  trcols
	ADDQ $8, DX
	CMPQ DX, R12
	JLT  trrows
	VZEROUPPER
	RET

// NEAR16M is NEAR16 with the 16 factors read from off(R8) and the result
// stored at out(DI).
#define NEAR16M(off, out) NEAR16BY(off(R8), off+32(R8), off+64(R8), off+96(R8), out)

#define CVT16(off) \
	VCVTPS2PD off(SI), Y1    \
	VCVTPS2PD off+16(SI), Y2 \
	VCVTPS2PD off+32(SI), Y3 \
	VCVTPS2PD off+48(SI), Y4

// func nearRows32x64AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[64]float64)
// nearRows32AVX2 for 64 lanes a row: a whole tile row of the column-
// contiguous quantiser, four cache lines read together.
TEXT ·nearRows32x64AVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), BX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), DX
	MOVQ rows+32(FP), CX
	MOVQ inv+40(FP), R8
	MOVL $64, AX
	MOVL AX, X10
	VPBROADCASTD X10, X10
	MOVL $-64, AX
	MOVL AX, X11
	VPBROADCASTD X11, X11
	SHLQ $2, DX
	TESTQ CX, CX
	JLE  near64lanesdone

near64lanesloop:
	CVT16(0)
	NEAR16M(0, 0)
	CVT16(64)
	NEAR16M(128, 16)
	CVT16(128)
	NEAR16M(256, 32)
	CVT16(192)
	NEAR16M(384, 48)
	ADDQ DX, SI
	ADDQ BX, DI
	DECQ CX
	JNZ  near64lanesloop

near64lanesdone:
	VZEROUPPER
	RET

// func absmaxRows32x64AVX2(src *float32, stride, rows int, acc *[64]uint32)
// absmaxRows32AVX2 for 64 lanes a row (rows ≥ 1).
TEXT ·absmaxRows32x64AVX2(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+16(FP), CX
	MOVQ acc+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVL $0x7fffffff, AX
	MOVL AX, X8
	VPBROADCASTD X8, Y8

abs64lanesloop:
	VPAND   (SI), Y8, Y9
	VPAND   32(SI), Y8, Y10
	VPAND   64(SI), Y8, Y11
	VPAND   96(SI), Y8, Y12
	VPMAXUD Y9, Y0, Y0
	VPMAXUD Y10, Y1, Y1
	VPMAXUD Y11, Y2, Y2
	VPMAXUD Y12, Y3, Y3
	VPAND   128(SI), Y8, Y9
	VPAND   160(SI), Y8, Y10
	VPAND   192(SI), Y8, Y11
	VPAND   224(SI), Y8, Y12
	VPMAXUD Y9, Y4, Y4
	VPMAXUD Y10, Y5, Y5
	VPMAXUD Y11, Y6, Y6
	VPMAXUD Y12, Y7, Y7
	ADDQ DX, SI
	DECQ CX
	JNZ  abs64lanesloop

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)
	VZEROUPPER
	RET

// Constants of stochastic rounding: SplitMix64's multipliers split into
// 32-bit halves (VPMULUDQ multiplies the low halves of quadwords), and the
// float64 bits that turn 53 random bits into a number in [0, 1) exactly.
DATA mixc1lo<>+0(SB)/8, $0x000000001ce4e5b9
DATA mixc1hi<>+0(SB)/8, $0x00000000bf58476d
DATA mixc2lo<>+0(SB)/8, $0x00000000133111eb
DATA mixc2hi<>+0(SB)/8, $0x0000000094d049bb
GLOBL mixc1lo<>(SB), (NOPTR+RODATA), $8
GLOBL mixc1hi<>(SB), (NOPTR+RODATA), $8
GLOBL mixc2lo<>(SB), (NOPTR+RODATA), $8
GLOBL mixc2hi<>(SB), (NOPTR+RODATA), $8

#define QUAD4(name, v) \
	DATA name+0(SB)/8, v  \
	DATA name+8(SB)/8, v  \
	DATA name+16(SB)/8, v \
	DATA name+24(SB)/8, v \
	GLOBL name(SB), (NOPTR+RODATA), $32

QUAD4(low32<>, $0x00000000ffffffff)
QUAD4(two52<>, $0x4330000000000000)
QUAD4(twom21<>, $0x3ea0000000000000)
QUAD4(twom53<>, $0x3ca0000000000000)
QUAD4(minus64<>, $0xc050000000000000)
QUAD4(plus64<>, $0x4050000000000000)

// MULC sets z to z·C mod 2⁶⁴ for the constant C = chi·2³² + clo (halves in
// the low dwords of clo and chi): lo·clo + ((hi·clo + lo·chi) << 32).
#define MULC(z, clo, chi) \
	VPMULUDQ clo, z, Y5  \
	VPSRLQ   $32, z, Y6  \
	VPMULUDQ clo, Y6, Y6 \
	VPMULUDQ chi, z, Y7  \
	VPADDQ   Y7, Y6, Y6  \
	VPSLLQ   $32, Y6, Y6 \
	VPADDQ   Y6, Y5, z

// STOCHU sets Y4 to the uniform numbers of counters z: Mix64(z) >> 11 as
// float64 (two exact 32-bit conversions), times 2⁻⁵³.
#define STOCHU(z) \
	VPSRLQ      $30, z, Y5            \
	VPXOR       Y5, z, Y4             \
	MULC(Y4, Y10, Y11)                \
	VPSRLQ      $27, Y4, Y5           \
	VPXOR       Y5, Y4, Y4            \
	MULC(Y4, Y12, Y13)                \
	VPSRLQ      $31, Y4, Y5           \
	VPXOR       Y5, Y4, Y4            \
	VPSRLQ      $11, Y4, Y4           \
	VPSRLQ      $32, Y4, Y5           \
	VPAND       low32<>(SB), Y4, Y4   \
	VPOR        two52<>(SB), Y4, Y4   \
	VSUBPD      two52<>(SB), Y4, Y4   \
	VPOR        two52<>(SB), Y5, Y5   \
	VSUBPD      two52<>(SB), Y5, Y5   \
	VMULPD      twom53<>(SB), Y4, Y4  \
	VMULPD      twom21<>(SB), Y5, Y5  \
	VADDPD      Y5, Y4, Y4

// STOCHQ rounds the 4 float64 in Y6 with the factors at inv(R8) and the
// uniform numbers in Y4, into 4 int32 in out: x·inv (rounded as Go rounds
// it) plus u, floored, clamped to [−64, 64].
#define STOCHQ(inv, out) \
	VMULPD      inv(R8), Y6, Y6       \
	VADDPD      Y4, Y6, Y6            \
	VROUNDPD    $9, Y6, Y6            \
	VMAXPD      minus64<>(SB), Y6, Y6 \
	VMINPD      plus64<>(SB), Y6, Y6  \
	VCVTTPD2DQY Y6, out

// STOCH4 rounds the 4 float32 at off(SI) with counters z.
#define STOCH4(z, off, inv, out) \
	STOCHU(z)             \
	VCVTPS2PD off(SI), Y6 \
	STOCHQ(inv, out)

// STOCH4M is STOCH4 reading only the lanes of the mask at moff(R9).
#define STOCH4M(z, off, moff, inv, out) \
	STOCHU(z)                     \
	VMOVDQU    moff(R9), X6       \
	VMASKMOVPS off(SI), X6, X6    \
	VCVTPS2PD  X6, Y6             \
	STOCHQ(inv, out)

// STOCH_SETUP loads the arguments of the stochastic kernels: the counters
// z into Y0–Y3, zstep into Y14, the multipliers into Y10–Y13.
#define STOCH_SETUP \
	MOVQ dst+0(FP), DI                \
	MOVQ ds+8(FP), BX                 \
	MOVQ src+16(FP), SI               \
	MOVQ ss+24(FP), DX                \
	SHLQ $2, DX                       \
	MOVQ rows+32(FP), CX              \
	MOVQ inv+40(FP), R8               \
	MOVQ z+48(FP), AX                 \
	VMOVDQU (AX), Y0                  \
	VMOVDQU 32(AX), Y1                \
	VMOVDQU 64(AX), Y2                \
	VMOVDQU 96(AX), Y3                \
	VPBROADCASTQ zstep+56(FP), Y14    \
	VPBROADCASTQ mixc1lo<>(SB), Y10   \
	VPBROADCASTQ mixc1hi<>(SB), Y11   \
	VPBROADCASTQ mixc2lo<>(SB), Y12   \
	VPBROADCASTQ mixc2hi<>(SB), Y13

// STOCH_ROW_END packs a row's four groups (X8, X9 and X15 with the third
// already packed into X9), stores its 16 bytes and moves on a row.
#define STOCH_ROW_END \
	VPACKSSDW X15, X9, X9 \
	VPACKSSWB X9, X8, X8  \
	VMOVDQU   X8, (DI)    \
	VPADDQ Y14, Y0, Y0    \
	VPADDQ Y14, Y1, Y1    \
	VPADDQ Y14, Y2, Y2    \
	VPADDQ Y14, Y3, Y3    \
	ADDQ DX, SI           \
	ADDQ BX, DI

// func stochRows32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64, z *[16]uint64, zstep uint64)
// Stochastic rounding of rows of 16 lanes: dst[r·ds+l] = floor(src[r·ss+l]·
// inv[l] + u) clamped to [−64, 64], u the uniform number of Mix64(z[l] +
// r·zstep), the same bits as roundStochastic.
TEXT ·stochRows32AVX2(SB), NOSPLIT, $0-64
	STOCH_SETUP
	TESTQ CX, CX
	JLE  stochdone

stochloop:
	STOCH4(Y0, 0, 0, X8)
	STOCH4(Y1, 16, 32, X9)
	VPACKSSDW X9, X8, X8
	STOCH4(Y2, 32, 64, X9)
	STOCH4(Y3, 48, 96, X15)
	STOCH_ROW_END
	DECQ CX
	JNZ  stochloop

stochdone:
	VZEROUPPER
	RET

// func stochRowsMask32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64, z *[16]uint64, zstep uint64, mask *[16]int32)
// stochRows32AVX2 reading only the mask's lanes; it still writes 16 bytes a
// row (the caller's rows have room).
TEXT ·stochRowsMask32AVX2(SB), NOSPLIT, $0-72
	STOCH_SETUP
	MOVQ mask+64(FP), R9
	TESTQ CX, CX
	JLE  stochmaskdone

stochmaskloop:
	STOCH4M(Y0, 0, 0, 0, X8)
	STOCH4M(Y1, 16, 16, 32, X9)
	VPACKSSDW X9, X8, X8
	STOCH4M(Y2, 32, 32, 64, X9)
	STOCH4M(Y3, 48, 48, 96, X15)
	STOCH_ROW_END
	DECQ CX
	JNZ  stochmaskloop

stochmaskdone:
	VZEROUPPER
	RET

// Masked forms for ragged groups (w < 16 lanes): loads through VPMASKMOVD
// and VMASKMOVPS never touch a lane outside the mask, so a short last row
// is read in place. mask holds −1 for the lanes to read, 0 for the others;
// those others read as 0.

// func absmaxRowsMask32AVX2(src *float32, stride, rows int, mask *[16]int32, acc *[16]uint32)
TEXT ·absmaxRowsMask32AVX2(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+16(FP), CX
	MOVQ mask+24(FP), R8
	MOVQ acc+32(FP), DI
	VMOVDQU (R8), Y5
	VMOVDQU 32(R8), Y6
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVL $0x7fffffff, AX
	MOVL AX, X2
	VPBROADCASTD X2, Y2

absmaskloop:
	VPMASKMOVD (SI), Y5, Y3
	VPMASKMOVD 32(SI), Y6, Y4
	VPAND   Y2, Y3, Y3
	VPAND   Y2, Y4, Y4
	VPMAXUD Y3, Y0, Y0
	VPMAXUD Y4, Y1, Y1
	ADDQ DX, SI
	DECQ CX
	JNZ  absmaskloop

	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	VZEROUPPER
	RET

// func nearRowsMask32AVX2(dst *int8, ds int, src *float32, ss, rows int, inv *[16]float64, mask *[16]int32)
// nearRows32AVX2 reading only the mask's lanes; it still writes 16 bytes a
// row (the caller's rows have room).
TEXT ·nearRowsMask32AVX2(SB), NOSPLIT, $0-56
	NEAR_SETUP
	MOVQ mask+48(FP), R9
	VMOVDQU (R9), X5
	VMOVDQU 16(R9), X6
	VMOVDQU 32(R9), X7
	VMOVDQU 48(R9), X8
	SHLQ $2, DX
	TESTQ CX, CX
	JLE  nearmaskdone

nearmaskloop:
	VMASKMOVPS (SI), X5, X1
	VMASKMOVPS 16(SI), X6, X2
	VMASKMOVPS 32(SI), X7, X3
	VMASKMOVPS 48(SI), X8, X4
	VCVTPS2PD X1, Y1
	VCVTPS2PD X2, Y2
	VCVTPS2PD X3, Y3
	VCVTPS2PD X4, Y4
	NEAR16
	ADDQ DX, SI
	ADDQ BX, DI
	DECQ CX
	JNZ  nearmaskloop

nearmaskdone:
	VZEROUPPER
	RET

// func absmaxEachRow32AVX2(src *float32, stride, groups, rows int, out *uint32)
// out[i] = the largest magnitude bits among the first 16·groups entries of
// row i (rows stride floats apart); groups and rows are positive.
TEXT ·absmaxEachRow32AVX2(SB), NOSPLIT, $0-40
	MOVQ         src+0(FP), SI
	MOVQ         stride+8(FP), DX
	SHLQ         $2, DX
	MOVQ         groups+16(FP), R9
	MOVQ         rows+24(FP), CX
	MOVQ         out+32(FP), DI
	MOVL         $0x7fffffff, AX
	MOVL         AX, X2
	VPBROADCASTD X2, Y2

rmaxrow:
	MOVQ  SI, R10
	MOVQ  R9, BX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

rmaxgroup:
	VPAND   (R10), Y2, Y3
	VPAND   32(R10), Y2, Y4
	VPMAXUD Y3, Y0, Y0
	VPMAXUD Y4, Y1, Y1
	ADDQ    $64, R10
	DECQ    BX
	JNZ     rmaxgroup
	VPMAXUD      Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPMAXUD      X1, X0, X0
	VMOVD        X0, (DI)
	ADDQ         $4, DI
	ADDQ         DX, SI
	DECQ         CX
	JNZ          rmaxrow
	VZEROUPPER
	RET

// func nearEachRow32AVX2(dst *int8, ds int, src *float32, ss, groups, rows int, inv *float64)
// Row i's first 16·groups entries rounded to the nearest int8 with row i's
// multiplier inv[i] (NEAR16, every lane's factor the same); rows are ds
// bytes and ss floats apart; groups and rows are positive.
TEXT ·nearEachRow32AVX2(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         ds+8(FP), R11
	MOVQ         src+16(FP), SI
	MOVQ         ss+24(FP), DX
	SHLQ         $2, DX
	MOVQ         groups+32(FP), R9
	MOVQ         rows+40(FP), CX
	MOVQ         inv+48(FP), R8
	MOVL         $64, AX
	MOVL         AX, X10
	VPBROADCASTD X10, X10
	MOVL         $-64, AX
	MOVL         AX, X11
	VPBROADCASTD X11, X11

rnearrow:
	VBROADCASTSD (R8), Y12
	MOVQ         SI, R10
	MOVQ         DI, R12
	MOVQ         R9, BX

rneargroup:
	VCVTPS2PD (R10), Y1
	VCVTPS2PD 16(R10), Y2
	VCVTPS2PD 32(R10), Y3
	VCVTPS2PD 48(R10), Y4
	NEAR16BY(Y12, Y12, Y12, Y12, 0)
	ADDQ      $64, R10
	ADDQ      $16, DI
	DECQ      BX
	JNZ       rneargroup
	LEAQ      (R12)(R11*1), DI
	ADDQ      DX, SI
	ADDQ      $8, R8
	DECQ      CX
	JNZ       rnearrow
	VZEROUPPER
	RET
