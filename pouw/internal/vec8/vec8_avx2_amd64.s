//go:build amd64 && !purego

#include "textflag.h"

// AVX2 versions of addPairs64 and outside64 (vec8_amd64.s) for CPUs without
// AVX-512 VBMI, in blocks of 32 bytes.

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
// Returns the offset of the first 32-byte block holding an entry outside
// [lo, hi], or −1.
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
	TESTQ CX, CX
	JLE  none

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
