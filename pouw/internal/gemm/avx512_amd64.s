//go:build amd64 && !purego

#include "textflag.h"

// One quad of k: load 64 bytes of packed B'+128 (16 columns × 4) and
// multiply-accumulate them with the four bytes of each of the 16 rows of A',
// broadcast straight from memory. Rows 0..15 live at R8 + {0,1,2,3,4,6,8,12}·lda,
// R9 = R8+5·lda + {0,2,4,6,8}·lda, R10 = R8+10·lda + {0,4}·lda and R11 = R8+15·lda
// (BX = lda, DX = 3·lda): base + index·scale reaches all 16 with four bases.
#define QUAD(oa, ob) \
	VMOVDQU32 ob(SI), Z16; \
	VPDPBUSD.BCST oa(R8), Z16, Z0; \
	VPDPBUSD.BCST oa(R8)(BX*1), Z16, Z1; \
	VPDPBUSD.BCST oa(R8)(BX*2), Z16, Z2; \
	VPDPBUSD.BCST oa(R8)(DX*1), Z16, Z3; \
	VPDPBUSD.BCST oa(R8)(BX*4), Z16, Z4; \
	VPDPBUSD.BCST oa(R9), Z16, Z5; \
	VPDPBUSD.BCST oa(R8)(DX*2), Z16, Z6; \
	VPDPBUSD.BCST oa(R9)(BX*2), Z16, Z7; \
	VPDPBUSD.BCST oa(R8)(BX*8), Z16, Z8; \
	VPDPBUSD.BCST oa(R9)(BX*4), Z16, Z9; \
	VPDPBUSD.BCST oa(R10), Z16, Z10; \
	VPDPBUSD.BCST oa(R9)(DX*2), Z16, Z11; \
	VPDPBUSD.BCST oa(R8)(DX*4), Z16, Z12; \
	VPDPBUSD.BCST oa(R9)(BX*8), Z16, Z13; \
	VPDPBUSD.BCST oa(R10)(BX*4), Z16, Z14; \
	VPDPBUSD.BCST oa(R11), Z16, Z15

#define ADVANCE(n) \
	ADDQ $n, R8; \
	ADDQ $n, R9; \
	ADDQ $n, R10; \
	ADDQ $n, R11

// Subtract each row's 128·(row sum of A' over the chunk), broadcast from DI.
#define SUBCORR \
	VPSUBD.BCST 0(DI), Z0, Z0; \
	VPSUBD.BCST 4(DI), Z1, Z1; \
	VPSUBD.BCST 8(DI), Z2, Z2; \
	VPSUBD.BCST 12(DI), Z3, Z3; \
	VPSUBD.BCST 16(DI), Z4, Z4; \
	VPSUBD.BCST 20(DI), Z5, Z5; \
	VPSUBD.BCST 24(DI), Z6, Z6; \
	VPSUBD.BCST 28(DI), Z7, Z7; \
	VPSUBD.BCST 32(DI), Z8, Z8; \
	VPSUBD.BCST 36(DI), Z9, Z9; \
	VPSUBD.BCST 40(DI), Z10, Z10; \
	VPSUBD.BCST 44(DI), Z11, Z11; \
	VPSUBD.BCST 48(DI), Z12, Z12; \
	VPSUBD.BCST 52(DI), Z13, Z13; \
	VPSUBD.BCST 56(DI), Z14, Z14; \
	VPSUBD.BCST 60(DI), Z15, Z15; \
	ADDQ $64, DI

// AX = XOR of all 256 accumulators: a vertical tree over the 16 registers,
// then across the 16 lanes.
#define XORALL \
	VPXORD Z0, Z1, Z17; \
	VPXORD Z2, Z3, Z18; \
	VPXORD Z4, Z5, Z19; \
	VPXORD Z6, Z7, Z20; \
	VPXORD Z8, Z9, Z21; \
	VPXORD Z10, Z11, Z22; \
	VPXORD Z12, Z13, Z23; \
	VPXORD Z14, Z15, Z24; \
	VPXORD Z17, Z18, Z17; \
	VPXORD Z19, Z20, Z19; \
	VPXORD Z21, Z22, Z21; \
	VPXORD Z23, Z24, Z23; \
	VPXORD Z17, Z19, Z17; \
	VPXORD Z21, Z23, Z21; \
	VPXORD Z17, Z21, Z17; \
	VEXTRACTI64X4 $1, Z17, Y18; \
	VPXORD Y18, Y17, Y17; \
	VEXTRACTI32X4 $1, Y17, X18; \
	VPXORD X18, X17, X17; \
	VPSHUFD $0x4e, X17, X18; \
	VPXORD X18, X17, X17; \
	VPSHUFD $0xb1, X17, X18; \
	VPXORD X18, X17, X17; \
	VMOVD X17, AX

#define PAIRSTEP \
	VMOVDQU32 (SI), Z16; \
	VPDPWSSD.BCST 0(R8), Z16, Z0; \
	VPDPWSSD.BCST 4(R8), Z16, Z1; \
	VPDPWSSD.BCST 8(R8), Z16, Z2; \
	VPDPWSSD.BCST 12(R8), Z16, Z3; \
	VPDPWSSD.BCST 16(R8), Z16, Z4; \
	VPDPWSSD.BCST 20(R8), Z16, Z5; \
	VPDPWSSD.BCST 24(R8), Z16, Z6; \
	VPDPWSSD.BCST 28(R8), Z16, Z7; \
	VPDPWSSD.BCST 32(R8), Z16, Z8; \
	VPDPWSSD.BCST 36(R8), Z16, Z9; \
	VPDPWSSD.BCST 40(R8), Z16, Z10; \
	VPDPWSSD.BCST 44(R8), Z16, Z11; \
	VPDPWSSD.BCST 48(R8), Z16, Z12; \
	VPDPWSSD.BCST 52(R8), Z16, Z13; \
	VPDPWSSD.BCST 56(R8), Z16, Z14; \
	VPDPWSSD.BCST 60(R8), Z16, Z15; \
	ADDQ $64, R8; \
	ADDQ $64, SI

// func kernel512(a *int8, lda int, b *byte, corr *int32, chunkQuads, nchunks, tailQuads int, l, r *byte, steps int, dst *int32, ldd int, jack *Jackpot)
TEXT ·kernel512(SB), NOSPLIT, $0-104
	MOVQ a+0(FP), R8
	MOVQ lda+8(FP), BX
	LEAQ (BX)(BX*2), DX
	LEAQ (R8)(BX*4), R9
	ADDQ BX, R9
	LEAQ (R9)(BX*4), R10
	ADDQ BX, R10
	LEAQ (R10)(BX*4), R11
	ADDQ BX, R11
	MOVQ b+16(FP), SI
	MOVQ corr+24(FP), DI

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	XORQ R13, R13 // byte offset of the jackpot word the next chunk folds into
	MOVQ nchunks+40(FP), R12
	TESTQ R12, R12
	JZ   tail

chunk:
	MOVQ chunkQuads+32(FP), CX
	SHRQ $2, CX

chunkloop:
	QUAD(0, 0)
	QUAD(4, 64)
	QUAD(8, 128)
	QUAD(12, 192)
	ADVANCE(16)
	ADDQ $256, SI
	DECQ CX
	JNZ  chunkloop

	SUBCORR
	MOVQ jack+96(FP), CX
	TESTQ CX, CX
	JZ   nofold
	XORALL
	ROLL $13, (CX)(R13*1)
	XORL AX, (CX)(R13*1)
	ADDQ $4, R13
	ANDQ $63, R13

nofold:
	DECQ R12
	JNZ  chunk

tail:
	MOVQ tailQuads+48(FP), CX
	SHRQ $2, CX
	JZ   tail1

tail4:
	QUAD(0, 0)
	QUAD(4, 64)
	QUAD(8, 128)
	QUAD(12, 192)
	ADVANCE(16)
	ADDQ $256, SI
	DECQ CX
	JNZ  tail4

tail1:
	MOVQ tailQuads+48(FP), CX
	ANDQ $3, CX
	JZ   tailcorr

tail1loop:
	QUAD(0, 0)
	ADVANCE(4)
	ADDQ $64, SI
	DECQ CX
	JNZ  tail1loop

tailcorr:
	SUBCORR

	// The correction term, after the transcript: int16 pairs with VPDPWSSD.
	MOVQ steps+72(FP), CX
	TESTQ CX, CX
	JZ   store
	MOVQ l+56(FP), R8
	MOVQ r+64(FP), SI

pairs:
	PAIRSTEP
	DECQ CX
	JNZ  pairs

store:
	MOVQ dst+80(FP), DI
	MOVQ ldd+88(FP), BX
	SHLQ $2, BX
	VMOVDQU32 Z0, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z1, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z2, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z3, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z4, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z5, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z6, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z7, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z8, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z9, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z10, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z11, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z12, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z13, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z14, (DI)
	ADDQ BX, DI
	VMOVDQU32 Z15, (DI)
	VZEROUPPER
	RET

// func sums128(dst *int32, a *int8, chunkLen, nchunks int)
TEXT ·sums128(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ chunkLen+16(FP), DX
	SHRQ $5, DX
	MOVQ nchunks+24(FP), R12
	MOVL $0x80808080, AX
	VPBROADCASTD AX, Y15

sumchunk:
	VPXORD Y0, Y0, Y0
	MOVQ DX, CX

suminner:
	VPDPBUSD (SI), Y15, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ  suminner

	VEXTRACTI32X4 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, AX
	MOVL AX, (DI)
	ADDQ $64, DI
	DECQ R12
	JNZ  sumchunk
	VZEROUPPER
	RET
