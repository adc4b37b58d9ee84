//go:build amd64 && !purego

#include "textflag.h"

// func addPairs64(dst, src *int8, table *[128]int8, first, second *uint8, blocks int, two bool)
TEXT ·addPairs64(SB), NOSPLIT, $0-49
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ table+16(FP), AX
	MOVQ first+24(FP), R8
	MOVQ second+32(FP), R9
	MOVQ blocks+40(FP), CX
	VMOVDQU64 (AX), Z1   // table bytes 0..63
	VMOVDQU64 64(AX), Z2 // table bytes 64..127
	MOVBLZX two+48(FP), AX
	TESTQ AX, AX
	JNZ  two

one:
	VMOVDQU64 (R8), Z3
	VPERMB Z1, Z3, Z3 // f[first[l]]
	VMOVDQU64 (R9), Z4
	VPERMB Z1, Z4, Z4 // f[second[l]]
	VMOVDQU64 (SI), Z5
	VPADDB Z3, Z5, Z5
	VPSUBB Z4, Z5, Z5
	VMOVDQU64 Z5, (DI)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  one
	VZEROUPPER
	RET

two:
	VMOVDQU64 (R8), Z3
	VPERMI2B Z2, Z1, Z3 // 7-bit index into the 128-byte table
	VMOVDQU64 (R9), Z4
	VPERMI2B Z2, Z1, Z4
	VMOVDQU64 (SI), Z5
	VPADDB Z3, Z5, Z5
	VPSUBB Z4, Z5, Z5
	VMOVDQU64 Z5, (DI)
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  two
	VZEROUPPER
	RET

// func outside64(x *int8, blocks int, lo, hi int8) int
TEXT ·outside64(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVBQSX lo+16(FP), AX
	VPBROADCASTB AX, Z1
	MOVBQSX hi+17(FP), AX
	VPBROADCASTB AX, Z2
	MOVQ SI, DI

scan:
	VMOVDQU64 (SI), Z0
	VPCMPGTB Z2, Z0, K1 // x > hi
	VPCMPGTB Z0, Z1, K2 // lo > x
	KORQ K1, K2, K1
	KORTESTQ K1, K1
	JNZ  found
	ADDQ $64, SI
	DECQ CX
	JNZ  scan
	MOVQ $-1, ret+24(FP)
	VZEROUPPER
	RET

found:
	SUBQ DI, SI
	MOVQ SI, ret+24(FP)
	VZEROUPPER
	RET

// func narrowRows(dst *int16, dstStride int, src *int32, cols, rows int, neg bool) bool
//
// cols is a positive multiple of 16 and rows positive. Each entry x becomes
// (x XOR m) − m, m = 0 or −1 (so ±x), truncated to int16; the running
// minimum and maximum of x say at the end whether every x fitted.
TEXT ·narrowRows(SB), NOSPLIT, $0-49
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $1, R8
	MOVQ src+16(FP), SI
	MOVQ cols+24(FP), DX
	SHRQ $4, DX
	MOVQ rows+32(FP), CX
	MOVBQZX neg+40(FP), AX
	NEGQ AX
	VPBROADCASTD AX, Z26
	VPXORD Z28, Z28, Z28 // minimum (0 is in range)
	VPXORD Z27, Z27, Z27 // maximum

narrowrow:
	MOVQ DI, R9
	MOVQ DX, BX

narrowvec:
	VMOVDQU32 (SI), Z0
	VPMINSD Z0, Z28, Z28
	VPMAXSD Z0, Z27, Z27
	VPXORD Z26, Z0, Z0
	VPSUBD Z26, Z0, Z0
	VPMOVDW Z0, (R9)
	ADDQ $64, SI
	ADDQ $32, R9
	DECQ BX
	JNZ  narrowvec
	ADDQ R8, DI
	DECQ CX
	JNZ  narrowrow

	MOVL $-32767, AX
	VPBROADCASTD AX, Z1
	MOVL $32767, AX
	VPBROADCASTD AX, Z2
	VPCMPGTD Z28, Z1, K1 // −32767 > min
	VPCMPGTD Z2, Z27, K2 // max > 32767
	KORW K1, K2, K1
	KORTESTW K1, K1
	SETEQ AL
	MOVB AL, ret+48(FP)
	VZEROUPPER
	RET

// func widenRows(dst *int16, dstStride int, src *int8, cols, rows int, neg bool)
//
// cols is a positive multiple of 32 and rows positive: ±x sign-extended.
TEXT ·widenRows(SB), NOSPLIT, $0-41
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $1, R8
	MOVQ src+16(FP), SI
	MOVQ cols+24(FP), DX
	SHRQ $5, DX
	MOVQ rows+32(FP), CX
	MOVBQZX neg+40(FP), AX
	NEGQ AX
	VPBROADCASTW AX, Z26

widenrow:
	MOVQ DI, R9
	MOVQ DX, BX

widenvec:
	VPMOVSXBW (SI), Z0
	VPXORD Z26, Z0, Z0
	VPSUBW Z26, Z0, Z0
	VMOVDQU16 Z0, (R9)
	ADDQ $32, SI
	ADDQ $64, R9
	DECQ BX
	JNZ  widenvec
	ADDQ R8, DI
	DECQ CX
	JNZ  widenrow
	VZEROUPPER
	RET
