//go:build amd64 && !purego

#include "textflag.h"

// One int16 pair step: two ymm of B (16 columns × 2 int16), one broadcast pair
// of each of the 4 rows, VPMADDWD then VPADDD into 8 accumulators.
#define STEP(oa, ob) \
	VMOVDQU ob(SI), Y8; \
	VMOVDQU ob+32(SI), Y9; \
	VPBROADCASTD oa(R8), Y10; \
	VPMADDWD Y8, Y10, Y11; \
	VPADDD Y11, Y0, Y0; \
	VPMADDWD Y9, Y10, Y12; \
	VPADDD Y12, Y1, Y1; \
	VPBROADCASTD oa(R8)(BX*1), Y10; \
	VPMADDWD Y8, Y10, Y11; \
	VPADDD Y11, Y2, Y2; \
	VPMADDWD Y9, Y10, Y12; \
	VPADDD Y12, Y3, Y3; \
	VPBROADCASTD oa(R8)(BX*2), Y10; \
	VPMADDWD Y8, Y10, Y11; \
	VPADDD Y11, Y4, Y4; \
	VPMADDWD Y9, Y10, Y12; \
	VPADDD Y12, Y5, Y5; \
	VPBROADCASTD oa(R8)(DX*1), Y10; \
	VPMADDWD Y8, Y10, Y11; \
	VPADDD Y11, Y6, Y6; \
	VPMADDWD Y9, Y10, Y12; \
	VPADDD Y12, Y7, Y7

// func kernel2(a *int16, lda int, b *int16, chunkPairs, nchunks, restPairs int, dst *int32, ldd int, jack *Jackpot)
TEXT ·kernel2(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), R8
	MOVQ lda+8(FP), BX
	LEAQ (BX)(BX*2), DX
	MOVQ b+16(FP), SI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	XORQ R13, R13
	MOVQ nchunks+32(FP), R12
	TESTQ R12, R12
	JZ   rest

chunk:
	MOVQ chunkPairs+24(FP), CX
	SHRQ $1, CX

chunkloop:
	STEP(0, 0)
	STEP(4, 64)
	ADDQ $8, R8
	ADDQ $128, SI
	DECQ CX
	JNZ  chunkloop

	MOVQ jack+64(FP), CX
	TESTQ CX, CX
	JZ   nofold
	VPXOR Y0, Y1, Y13
	VPXOR Y2, Y3, Y14
	VPXOR Y13, Y14, Y13
	VPXOR Y4, Y5, Y14
	VPXOR Y13, Y14, Y13
	VPXOR Y6, Y7, Y14
	VPXOR Y13, Y14, Y13
	VEXTRACTI128 $1, Y13, X14
	VPXOR X14, X13, X13
	VPSHUFD $0x4e, X13, X14
	VPXOR X14, X13, X13
	VPSHUFD $0xb1, X13, X14
	VPXOR X14, X13, X13
	VMOVD X13, AX
	ROLL $13, (CX)(R13*1)
	XORL AX, (CX)(R13*1)
	ADDQ $4, R13
	ANDQ $63, R13

nofold:
	DECQ R12
	JNZ  chunk

rest:
	MOVQ restPairs+40(FP), CX
	TESTQ CX, CX
	JZ   store

restloop:
	STEP(0, 0)
	ADDQ $4, R8
	ADDQ $64, SI
	DECQ CX
	JNZ  restloop

store:
	MOVQ dst+48(FP), DI
	MOVQ ldd+56(FP), BX
	SHLQ $2, BX
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ BX, DI
	VMOVDQU Y2, (DI)
	VMOVDQU Y3, 32(DI)
	ADDQ BX, DI
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	ADDQ BX, DI
	VMOVDQU Y6, (DI)
	VMOVDQU Y7, 32(DI)
	VZEROUPPER
	RET

// func widenAVX2(dst *int16, src *int8, blocks int)
// dst[i] = int16(src[i]) for 32·blocks entries (VPMOVSXBW, 16 at a time).
TEXT ·widenAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ blocks+16(FP), CX
	TESTQ CX, CX
	JLE  widendone

widenloop:
	VPMOVSXBW (SI), Y0
	VPMOVSXBW 16(SI), Y1
	VMOVDQU   Y0, (DI)
	VMOVDQU   Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  widenloop

widendone:
	VZEROUPPER
	RET
