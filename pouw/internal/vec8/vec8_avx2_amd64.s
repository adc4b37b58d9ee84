//go:build amd64 && !purego

#include "textflag.h"

// AVX2 versions of the AVX-512 kernels in vec8_amd64.s, for CPUs without
// AVX-512 VBMI: addPairs64 and outside64 in blocks of 32 bytes, narrowRows
// and widenRows 16 entries at a time.

// LOOKUP2 sets Y1 to table[idx] for the 32 indices in Y0, every one below 32:
// VPSHUFB looks up the 16-byte sub-tables Y8 (entries 0–15) and Y9 (16–31),
// each in both lanes, by the index's low 4 bits, and VPBLENDVB picks between
// them by bit 4, which VPSLLW $3 moves to bit 7 of every byte (a word shift
// moves no bit 4 across a byte boundary into bit 7). LOOKUP4 and LOOKUP8
// extend the blend tree to 64 and 128 entries by bits 5 and 6. Indices are
// below 128, so bit 7, VPSHUFB's zeroing bit, is always clear. Y2–Y4 and Y6
// are scratch.
#define LOOKUP2 \
	VPSLLW    $3, Y0, Y2         \
	VPSHUFB   Y0, Y8, Y1         \
	VPSHUFB   Y0, Y9, Y3         \
	VPBLENDVB Y2, Y3, Y1, Y1

#define LOOKUP4 \
	LOOKUP2                      \
	VPSHUFB   Y0, Y10, Y3        \
	VPSHUFB   Y0, Y11, Y4        \
	VPBLENDVB Y2, Y4, Y3, Y3     \
	VPSLLW    $2, Y0, Y4         \
	VPBLENDVB Y4, Y3, Y1, Y1

#define LOOKUP8 \
	LOOKUP4                      \
	VPSHUFB   Y0, Y12, Y3        \
	VPSHUFB   Y0, Y13, Y4        \
	VPBLENDVB Y2, Y4, Y3, Y3     \
	VPSHUFB   Y0, Y14, Y4        \
	VPSHUFB   Y0, Y15, Y6        \
	VPBLENDVB Y2, Y6, Y4, Y4     \
	VPSLLW    $2, Y0, Y6         \
	VPBLENDVB Y6, Y4, Y3, Y3     \
	VPSLLW    $1, Y0, Y6         \
	VPBLENDVB Y6, Y3, Y1, Y1

// PAIRS is one block of 32 entries: dst = src + table[first] − table[second].
#define PAIRS(lookup) \
	VMOVDQU (R11), Y0 \
	lookup            \
	VMOVDQU Y1, Y5    \
	VMOVDQU (R12), Y0 \
	lookup            \
	VMOVDQU (SI), Y0  \
	VPADDB  Y5, Y0, Y0 \
	VPSUBB  Y1, Y0, Y0 \
	VMOVDQU Y0, (DI)  \
	ADDQ $32, DI      \
	ADDQ $32, SI      \
	ADDQ $32, R11     \
	ADDQ $32, R12

// func addPairs32AVX2(dst, src *int8, table *[128]int8, first, second *uint8, blocks, entries int)
// dst[l] = src[l] + table[first[l]] − table[second[l]] for 32·blocks entries;
// every index is below entries, which is 32, 64 or 128.
TEXT ·addPairs32AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ table+16(FP), R8
	MOVQ first+24(FP), R11
	MOVQ second+32(FP), R12
	MOVQ blocks+40(FP), CX
	MOVQ entries+48(FP), R10
	VBROADCASTI128 (R8), Y8
	VBROADCASTI128 16(R8), Y9
	VBROADCASTI128 32(R8), Y10
	VBROADCASTI128 48(R8), Y11
	VBROADCASTI128 64(R8), Y12
	VBROADCASTI128 80(R8), Y13
	VBROADCASTI128 96(R8), Y14
	VBROADCASTI128 112(R8), Y15
	TESTQ CX, CX
	JLE  done
	CMPQ R10, $32
	JE   loop2
	CMPQ R10, $64
	JE   loop4

loop8:
	PAIRS(LOOKUP8)
	DECQ CX
	JNZ  loop8
	JMP  done

loop4:
	PAIRS(LOOKUP4)
	DECQ CX
	JNZ  loop4
	JMP  done

loop2:
	PAIRS(LOOKUP2)
	DECQ CX
	JNZ  loop2

done:
	VZEROUPPER
	RET

// func outside32AVX2(x *int8, blocks int, lo, hi int8) int
// Returns −1 when every entry of the 32-byte blocks lies in [lo, hi], else an
// offset at most 96 bytes before the first entry outside, from which the
// caller scans: four blocks a step, their comparisons ORed together and
// tested once (one test a block left the loads at half their rate).
TEXT ·outside32AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVBLZX lo+16(FP), AX
	MOVL AX, X14
	VPBROADCASTB X14, Y14
	MOVBLZX hi+17(FP), AX
	MOVL AX, X15
	VPBROADCASTB X15, Y15
	XORQ DX, DX
	MOVQ CX, R8
	ANDQ $-4, R8 // blocks in whole steps of four
	TESTQ R8, R8
	JLE  single

quad:
	VMOVDQU  (SI), Y0
	VMOVDQU  32(SI), Y1
	VMOVDQU  64(SI), Y2
	VMOVDQU  96(SI), Y3
	VPCMPGTB Y15, Y0, Y4
	VPCMPGTB Y0, Y14, Y5
	VPCMPGTB Y15, Y1, Y6
	VPCMPGTB Y1, Y14, Y7
	VPCMPGTB Y15, Y2, Y8
	VPCMPGTB Y2, Y14, Y9
	VPCMPGTB Y15, Y3, Y10
	VPCMPGTB Y3, Y14, Y11
	VPOR     Y5, Y4, Y4
	VPOR     Y7, Y6, Y6
	VPOR     Y9, Y8, Y8
	VPOR     Y11, Y10, Y10
	VPOR     Y6, Y4, Y4
	VPOR     Y10, Y8, Y8
	VPOR     Y8, Y4, Y4
	VPTEST   Y4, Y4
	JNZ      hit // the first such entry is in these four blocks
	ADDQ $128, SI
	ADDQ $4, DX
	CMPQ DX, R8
	JLT  quad

single:
	CMPQ DX, CX
	JGE  none

oloop:
	VMOVDQU  (SI), Y0
	VPCMPGTB Y15, Y0, Y1
	VPCMPGTB Y0, Y14, Y2
	VPOR     Y2, Y1, Y1
	VPTEST   Y1, Y1
	JNZ      hit
	ADDQ $32, SI
	INCQ DX
	CMPQ DX, CX
	JLT  oloop

none:
	MOVQ $-1, ret+24(FP)
	VZEROUPPER
	RET

hit:
	SHLQ $5, DX
	MOVQ DX, ret+24(FP)
	VZEROUPPER
	RET

// func narrowRowsAVX2(dst *int16, dstStride int, src *int32, cols, rows int, neg bool) bool
//
// narrowRows for AVX2: cols is a positive multiple of 16 and rows positive.
// Each entry x becomes (x XOR m) − m, m = 0 or −1 (so ±x), truncated to
// int16 (its low 16 bits, which VPACKUSDW packs unchanged); the running
// minimum and maximum of x say at the end whether every x fitted.
TEXT ·narrowRowsAVX2(SB), NOSPLIT, $0-49
	MOVQ         dst+0(FP), DI
	MOVQ         dstStride+8(FP), R8
	SHLQ         $1, R8
	MOVQ         src+16(FP), SI
	MOVQ         cols+24(FP), DX
	SHRQ         $4, DX
	MOVQ         rows+32(FP), CX
	MOVBQZX      neg+40(FP), AX
	NEGQ         AX
	MOVQ         AX, X13
	VPBROADCASTD X13, Y13
	VPXOR        Y14, Y14, Y14 // minimum (0 is in range)
	VPXOR        Y15, Y15, Y15 // maximum
	VPCMPEQD     Y12, Y12, Y12
	VPSRLD       $16, Y12, Y12 // 0x0000ffff: the low 16 bits

narrowrow2:
	MOVQ DI, R9
	MOVQ DX, BX

narrowvec2:
	VMOVDQU   (SI), Y0
	VMOVDQU   32(SI), Y1
	VPMINSD   Y0, Y14, Y14
	VPMAXSD   Y0, Y15, Y15
	VPMINSD   Y1, Y14, Y14
	VPMAXSD   Y1, Y15, Y15
	VPXOR     Y13, Y0, Y0
	VPSUBD    Y13, Y0, Y0
	VPXOR     Y13, Y1, Y1
	VPSUBD    Y13, Y1, Y1
	VPAND     Y12, Y0, Y0
	VPAND     Y12, Y1, Y1
	VPACKUSDW Y1, Y0, Y0   // per 128-bit lane: 4 of Y0, 4 of Y1
	VPERMQ    $0xd8, Y0, Y0 // back in order
	VMOVDQU   Y0, (R9)
	ADDQ      $64, SI
	ADDQ      $32, R9
	DECQ      BX
	JNZ       narrowvec2
	ADDQ      R8, DI
	DECQ      CX
	JNZ       narrowrow2

	MOVL         $-32767, AX
	MOVQ         AX, X1
	VPBROADCASTD X1, Y1
	MOVL         $32767, AX
	MOVQ         AX, X2
	VPBROADCASTD X2, Y2
	VPCMPGTD     Y14, Y1, Y3 // −32767 > min
	VPCMPGTD     Y2, Y15, Y4 // max > 32767
	VPOR         Y3, Y4, Y3
	VPTEST       Y3, Y3
	SETEQ        AL
	MOVB         AL, ret+48(FP)
	VZEROUPPER
	RET

// func widenRowsAVX2(dst *int16, dstStride int, src *int8, cols, rows int, neg bool)
//
// widenRows for AVX2: cols is a positive multiple of 16 and rows positive;
// ±x sign-extended.
TEXT ·widenRowsAVX2(SB), NOSPLIT, $0-41
	MOVQ         dst+0(FP), DI
	MOVQ         dstStride+8(FP), R8
	SHLQ         $1, R8
	MOVQ         src+16(FP), SI
	MOVQ         cols+24(FP), DX
	SHRQ         $4, DX
	MOVQ         rows+32(FP), CX
	MOVBQZX      neg+40(FP), AX
	NEGQ         AX
	MOVQ         AX, X13
	VPBROADCASTW X13, Y13

widenrow2:
	MOVQ DI, R9
	MOVQ DX, BX

widenvec2:
	VPMOVSXBW (SI), Y0
	VPXOR     Y13, Y0, Y0
	VPSUBW    Y13, Y0, Y0
	VMOVDQU   Y0, (R9)
	ADDQ      $16, SI
	ADDQ      $32, R9
	DECQ      BX
	JNZ       widenvec2
	ADDQ      R8, DI
	DECQ      CX
	JNZ       widenrow2
	VZEROUPPER
	RET

// func addPairsRows32AVX2(dst, src, f *int8, first, second *uint8, k, rows int)
// For each of rows rows of k ≥ 32 entries (dst and src rows k bytes apart,
// tables 32 bytes apart in f): dst[l] = src[l] + t[first[l]] − t[second[l]],
// t the row's 32-entry table; a partial last block is done as the 32 entries
// ending at k, recomputing a few (dst and src do not overlap).
TEXT ·addPairsRows32AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), R9
	MOVQ src+8(FP), R10
	MOVQ f+16(FP), R8
	MOVQ rows+48(FP), CX

rowloop:
	VBROADCASTI128 (R8), Y8
	VBROADCASTI128 16(R8), Y9
	MOVQ           R9, DI
	MOVQ           R10, SI
	MOVQ           first+24(FP), R11
	MOVQ           second+32(FP), R12
	MOVQ           k+40(FP), BX
	SHRQ           $5, BX

blockloop:
	PAIRS(LOOKUP2)
	DECQ BX
	JNZ  blockloop
	MOVQ  k+40(FP), AX
	TESTQ $31, AX
	JZ    rowdone
	LEAQ  -32(R9)(AX*1), DI
	LEAQ  -32(R10)(AX*1), SI
	MOVQ  first+24(FP), R11
	LEAQ  -32(R11)(AX*1), R11
	MOVQ  second+32(FP), R12
	LEAQ  -32(R12)(AX*1), R12
	PAIRS(LOOKUP2)

rowdone:
	MOVQ k+40(FP), AX
	ADDQ AX, R9
	ADDQ AX, R10
	ADDQ $32, R8
	DECQ CX
	JNZ  rowloop
	VZEROUPPER
	RET
