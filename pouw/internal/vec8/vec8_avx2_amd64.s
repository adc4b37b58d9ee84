//go:build amd64 && !purego

#include "textflag.h"

// AVX2 versions of addPairs64 and outside64 (vec8_amd64.s) for CPUs without
// AVX-512 VBMI, in blocks of 32 bytes.

// LOOKUP sets Y1 to table[idx] for the 32 indices in Y0 (every index below
// 16·tables): sub-table t (Y8+t, its 16 bytes in both lanes) answers the
// indices in [16t, 16t+16). idx − 16t, plus 0x70 with unsigned saturation,
// has bit 7 clear exactly for those, and VPSHUFB zeroes the others.
#define LOOKUP(tbl) \
	VPADDUSB Y6, Y0, Y2  \
	VPSHUFB  Y2, Y8, Y1  \
	VPSUBB   Y7, Y0, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y9, Y4  \
	VPOR     Y4, Y1, Y1  \
	VPSUBB   Y7, Y3, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y10, Y4 \
	VPOR     Y4, Y1, Y1  \
	VPSUBB   Y7, Y3, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y11, Y4 \
	VPOR     Y4, Y1, Y1  \
	TESTQ    R10, R10    \
	JZ       tbl         \
	VPSUBB   Y7, Y3, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y12, Y4 \
	VPOR     Y4, Y1, Y1  \
	VPSUBB   Y7, Y3, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y13, Y4 \
	VPOR     Y4, Y1, Y1  \
	VPSUBB   Y7, Y3, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y14, Y4 \
	VPOR     Y4, Y1, Y1  \
	VPSUBB   Y7, Y3, Y3  \
	VPADDUSB Y6, Y3, Y2  \
	VPSHUFB  Y2, Y15, Y4 \
	VPOR     Y4, Y1, Y1  \
tbl:

// func addPairs32AVX2(dst, src *int8, table *[128]int8, first, second *uint8, blocks int, two bool)
// dst[l] = src[l] + table[first[l]] − table[second[l]] for 32·blocks entries;
// two: the table has 128 entries (else 64).
TEXT ·addPairs32AVX2(SB), NOSPLIT, $0-49
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ table+16(FP), R8
	MOVQ first+24(FP), R11
	MOVQ second+32(FP), R12
	MOVQ blocks+40(FP), CX
	MOVBLZX two+48(FP), R10
	VBROADCASTI128 (R8), Y8
	VBROADCASTI128 16(R8), Y9
	VBROADCASTI128 32(R8), Y10
	VBROADCASTI128 48(R8), Y11
	VBROADCASTI128 64(R8), Y12
	VBROADCASTI128 80(R8), Y13
	VBROADCASTI128 96(R8), Y14
	VBROADCASTI128 112(R8), Y15
	MOVL $0x70, AX
	MOVL AX, X6
	VPBROADCASTB X6, Y6
	MOVL $16, AX
	MOVL AX, X7
	VPBROADCASTB X7, Y7
	TESTQ CX, CX
	JLE  done

loop:
	VMOVDQU (R11), Y0
	LOOKUP(firstdone)
	VMOVDQU Y1, Y5
	VMOVDQU (R12), Y0
	LOOKUP(seconddone)
	VMOVDQU (SI), Y0
	VPADDB  Y5, Y0, Y0
	VPSUBB  Y1, Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R11
	ADDQ $32, R12
	DECQ CX
	JNZ  loop

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
