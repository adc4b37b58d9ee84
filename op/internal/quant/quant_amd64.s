//go:build amd64 && !purego

#include "textflag.h"

// Lane kernels for the quantiser (quantfast.go). A "row" is 16 lanes of
// floats; rows are stride elements apart; lanes outside the mask are never
// loaded or stored (masked accesses do not fault), so a ragged edge needs no
// copy. Maxima are unsigned maxima of the magnitude bits (sign cleared).
// Rounding is VCVTPD2DQ with embedded {rn-sae}: half to even whatever MXCSR
// says, the same as math.RoundToEven on the same float64 product.

// QUANT16 turns 8+8 float64 lanes (Z1, Z2), already loaded, into 16 int8s
// in X1: times the lanes' factors (Z16, Z17), rounded half to even,
// clamped to [-64, 64] (Z18, Z19), narrowed.
#define QUANT16 \
	VMULPD          Z16, Z1, Z1 \
	VMULPD          Z17, Z2, Z2 \
	VCVTPD2DQ.RN_SAE Z1, Y1     \
	VCVTPD2DQ.RN_SAE Z2, Y2     \
	VINSERTI32X8    $1, Y2, Z1, Z1 \
	VPMINSD         Z18, Z1, Z1 \
	VPMAXSD         Z19, Z1, Z1 \
	VPMOVDB         Z1, X1

#define QUANT_SETUP \
	MOVQ dst+0(FP), DI  \
	MOVQ ds+8(FP), BX   \
	MOVQ src+16(FP), SI \
	MOVQ ss+24(FP), DX  \
	MOVQ rows+32(FP), CX \
	KMOVW mask+40(FP), K1 \
	KSHIFTRW $8, K1, K3 \
	MOVQ inv+48(FP), R8 \
	VMOVUPD (R8), Z16   \
	VMOVUPD 64(R8), Z17 \
	MOVL $64, AX        \
	VPBROADCASTD AX, Z18 \
	MOVL $-64, AX       \
	VPBROADCASTD AX, Z19

// func absmaxLanes32(src *float32, stride, rows int, mask uint16, acc *[16]uint32)
TEXT ·absmaxLanes32(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ rows+16(FP), CX
	KMOVW mask+24(FP), K1
	MOVQ acc+32(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z2
	// Two rows per iteration into two accumulators.
	CMPQ CX, $2
	JLT  tail32

loop32:
	VMOVDQU32.Z (SI), K1, Z3
	VMOVDQU32.Z (SI)(DX*1), K1, Z4
	VPANDD Z2, Z3, Z3
	VPANDD Z2, Z4, Z4
	VPMAXUD Z3, Z0, Z0
	VPMAXUD Z4, Z1, Z1
	LEAQ (SI)(DX*2), SI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  loop32

tail32:
	TESTQ CX, CX
	JZ    done32
	VMOVDQU32.Z (SI), K1, Z3
	VPANDD Z2, Z3, Z3
	VPMAXUD Z3, Z0, Z0

done32:
	VPMAXUD Z1, Z0, Z0
	VMOVDQU32 Z0, (DI)
	VZEROUPPER
	RET

// func absmaxLanes64(src *float64, stride, rows int, mask uint16, acc *[16]uint64)
TEXT ·absmaxLanes64(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), DX
	SHLQ $3, DX
	MOVQ rows+16(FP), CX
	KMOVW mask+24(FP), K1
	KSHIFTRW $8, K1, K2
	MOVQ acc+32(FP), DI
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	MOVQ $0x7fffffffffffffff, AX
	VPBROADCASTQ AX, Z2
	TESTQ CX, CX
	JZ    done64

loop64:
	VMOVDQU64.Z (SI), K1, Z3
	VMOVDQU64.Z 64(SI), K2, Z4
	VPANDQ Z2, Z3, Z3
	VPANDQ Z2, Z4, Z4
	VPMAXUQ Z3, Z0, Z0
	VPMAXUQ Z4, Z1, Z1
	ADDQ DX, SI
	DECQ CX
	JNZ  loop64

done64:
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, 64(DI)
	VZEROUPPER
	RET

// func nearLanes32(dst *int8, ds int, src *float32, ss, rows int, mask uint16, inv *[16]float64)
TEXT ·nearLanes32(SB), NOSPLIT, $0-56
	QUANT_SETUP
	SHLQ $2, DX
	TESTQ CX, CX
	JZ    doneN32

loopN32:
	VMOVUPS.Z (SI), K1, Z0
	VCVTPS2PD Y0, Z1
	VEXTRACTF32X8 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	QUANT16
	VMOVDQU8 X1, K1, (DI)
	ADDQ DX, SI
	ADDQ BX, DI
	DECQ CX
	JNZ  loopN32

doneN32:
	VZEROUPPER
	RET

// func nearLanes64(dst *int8, ds int, src *float64, ss, rows int, mask uint16, inv *[16]float64)
TEXT ·nearLanes64(SB), NOSPLIT, $0-56
	QUANT_SETUP
	SHLQ $3, DX
	TESTQ CX, CX
	JZ    doneN64

loopN64:
	VMOVUPD.Z (SI), K1, Z1
	VMOVUPD.Z 64(SI), K3, Z2
	QUANT16
	VMOVDQU8 X1, K1, (DI)
	ADDQ DX, SI
	ADDQ BX, DI
	DECQ CX
	JNZ  loopN64

doneN64:
	VZEROUPPER
	RET

// UNPACK16 is one round of the 16×16 byte transpose, in each 128-bit lane
// at once: out[2i], out[2i+1] interleave the bytes of in[i] and in[i+8].
// Four rounds rotate (register, byte) index bits by one each and so swap
// them: register c then holds column c.
#define UNPACK16(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15) \
	VPUNPCKLBW a8, a0, b0    \
	VPUNPCKHBW a8, a0, b1    \
	VPUNPCKLBW a9, a1, b2    \
	VPUNPCKHBW a9, a1, b3    \
	VPUNPCKLBW a10, a2, b4   \
	VPUNPCKHBW a10, a2, b5   \
	VPUNPCKLBW a11, a3, b6   \
	VPUNPCKHBW a11, a3, b7   \
	VPUNPCKLBW a12, a4, b8   \
	VPUNPCKHBW a12, a4, b9   \
	VPUNPCKLBW a13, a5, b10  \
	VPUNPCKHBW a13, a5, b11  \
	VPUNPCKLBW a14, a6, b12  \
	VPUNPCKHBW a14, a6, b13  \
	VPUNPCKLBW a15, a7, b14  \
	VPUNPCKHBW a15, a7, b15

// STORE4 writes the four 16-byte lanes of r to rows AX, AX+16·os,
// AX+32·os, AX+48·os and moves AX on by one row.
#define STORE4(r, x) \
	VMOVDQU64     x, (AX)                \
	VEXTRACTI32X4 $1, r, (AX)(R10*1)     \
	VEXTRACTI32X4 $2, r, (AX)(R10*2)     \
	VEXTRACTI32X4 $3, r, (AX)(R11*1)     \
	ADDQ          R9, AX

// func transposeTile64(dst *int8, os int, src *[4096]int8)
// dst[l·os+j] = src[j·64+l] for j, l < 64.
TEXT ·transposeTile64(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ os+8(FP), R9
	MOVQ src+16(FP), SI
	MOVQ R9, R10
	SHLQ $4, R10          // 16·os
	LEAQ (R10)(R10*2), R11 // 48·os
	MOVQ $4, CX

group:
	// 16 source rows j (all 64 lanes l): four 16×16 blocks, one per lane.
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	VMOVDQU64 256(SI), Z4
	VMOVDQU64 320(SI), Z5
	VMOVDQU64 384(SI), Z6
	VMOVDQU64 448(SI), Z7
	VMOVDQU64 512(SI), Z8
	VMOVDQU64 576(SI), Z9
	VMOVDQU64 640(SI), Z10
	VMOVDQU64 704(SI), Z11
	VMOVDQU64 768(SI), Z12
	VMOVDQU64 832(SI), Z13
	VMOVDQU64 896(SI), Z14
	VMOVDQU64 960(SI), Z15
	UNPACK16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	UNPACK16(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	UNPACK16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	UNPACK16(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	// Z(c), lane q, is output row 16q+c, columns j of this group.
	MOVQ DI, AX
	STORE4(Z0, X0)
	STORE4(Z1, X1)
	STORE4(Z2, X2)
	STORE4(Z3, X3)
	STORE4(Z4, X4)
	STORE4(Z5, X5)
	STORE4(Z6, X6)
	STORE4(Z7, X7)
	STORE4(Z8, X8)
	STORE4(Z9, X9)
	STORE4(Z10, X10)
	STORE4(Z11, X11)
	STORE4(Z12, X12)
	STORE4(Z13, X13)
	STORE4(Z14, X14)
	STORE4(Z15, X15)
	ADDQ $1024, SI
	ADDQ $16, DI
	DECQ CX
	JNZ  group
	VZEROUPPER
	RET

// func dequantRow32(y *float32, c *int32, sb *float64, s float64, blocks int, incr bool)
// y[j] (+)= float32(float64(c[j]) · (s·sb[j])) for j < 8·blocks.
TEXT ·dequantRow32(SB), NOSPLIT, $0-41
	MOVQ y+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ sb+16(FP), R8
	VBROADCASTSD s+24(FP), Z7 // the row's scale
	MOVQ blocks+32(FP), CX
	MOVBLZX incr+40(FP), AX
	TESTQ CX, CX
	JZ    doneD32

loopD32:
	VCVTDQ2PD (SI), Z0
	VMULPD    (R8), Z7, Z1
	VMULPD    Z1, Z0, Z0
	VCVTPD2PS.RN_SAE Z0, Y0
	TESTQ     AX, AX
	JZ        storeD32
	VADDPS    (DI), Y0, Y0

storeD32:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $64, R8
	DECQ CX
	JNZ  loopD32

doneD32:
	VZEROUPPER
	RET

// func dequantRow64(y *float64, c *int32, sb *float64, s float64, blocks int, incr bool)
TEXT ·dequantRow64(SB), NOSPLIT, $0-41
	MOVQ y+0(FP), DI
	MOVQ c+8(FP), SI
	MOVQ sb+16(FP), R8
	VBROADCASTSD s+24(FP), Z7 // the row's scale
	MOVQ blocks+32(FP), CX
	MOVBLZX incr+40(FP), AX
	TESTQ CX, CX
	JZ    doneD64

loopD64:
	VCVTDQ2PD (SI), Z0
	VMULPD    (R8), Z7, Z1
	VMULPD    Z1, Z0, Z0
	TESTQ     AX, AX
	JZ        storeD64
	VADDPD    (DI), Z0, Z0

storeD64:
	VMOVUPD Z0, (DI)
	ADDQ $64, DI
	ADDQ $32, SI
	ADDQ $64, R8
	DECQ CX
	JNZ  loopD64

doneD64:
	VZEROUPPER
	RET
