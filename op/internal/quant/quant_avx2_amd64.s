//go:build amd64 && !purego

#include "textflag.h"

// AVX2 lane kernels for the quantiser (quantfast.go), for CPUs without
// AVX-512: whole rows of 16 lanes only (the Go wrappers send ragged edges
// to the Go kernels, since AVX2 has no byte-masked store). Rounding is
// VCVTPD2DQ under the MXCSR Go runs with (round to nearest, ties to even),
// the same as math.RoundToEven on the same float64 product; float64 to
// float32 is VCVTPD2PS under the same mode, Go's conversion.

// NEAR16 turns 4+4+4+4 float64 lanes (Y1..Y4) into 16 int8s stored at
// (DI): times the factors (Y12..Y15), rounded, clamped to [-64, 64] (X10,
// X11), narrowed with saturation (exact: the values already fit).
#define NEAR16 \
	VMULPD     Y12, Y1, Y1 \
	VMULPD     Y13, Y2, Y2 \
	VMULPD     Y14, Y3, Y3 \
	VMULPD     Y15, Y4, Y4 \
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
	VMOVDQU    X1, (DI)

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
