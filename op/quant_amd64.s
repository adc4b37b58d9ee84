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
