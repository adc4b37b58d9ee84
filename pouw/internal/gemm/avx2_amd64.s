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

// func kernel2(a *int16, lda int, b *int16, chunkPairs, nchunks, restPairs int, dst *int32, ldd int, lanes *jackLanes, tile *Jackpot)
TEXT ·kernel2(SB), NOSPLIT, $0-80
	MOVQ a+0(FP), R8
	MOVQ lda+8(FP), BX
	LEAQ (BX)(BX*2), DX
	MOVQ b+16(FP), SI
	// Clear the lanes of the words the chunks reach: min(nchunks, 16).
	MOVQ lanes+64(FP), CX
	TESTQ CX, CX
	JZ   nojackclear
	MOVQ nchunks+32(FP), R12
	CMPQ R12, $16
	JLE  clearcount
	MOVQ $16, R12

clearcount:
	TESTQ R12, R12
	JZ    nojackclear
	VPXOR Y8, Y8, Y8

clearloop:
	VMOVDQU Y8, (CX)
	ADDQ    $32, CX
	DECQ    R12
	JNZ     clearloop

nojackclear:
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

	// The chunk's 64 accumulators XORed down to one ymm, folded lane by
	// lane into its word's lanes: lanes = rotl(lanes, 13) ^ x. Rotation
	// and XOR commute with XORing the 8 lanes together, which is left to
	// the end: the words come out as the scalar fold's.
	MOVQ lanes+64(FP), CX
	TESTQ CX, CX
	JZ   nofold
	VPXOR   Y0, Y1, Y13
	VPXOR   Y2, Y3, Y14
	VPXOR   Y4, Y5, Y15
	VPXOR   Y13, Y14, Y13
	VPXOR   Y6, Y7, Y14
	VPXOR   Y14, Y15, Y14
	VPXOR   Y13, Y14, Y13
	VMOVDQU (CX)(R13*1), Y14
	VPSLLD  $13, Y14, Y15
	VPSRLD  $19, Y14, Y14
	VPOR    Y15, Y14, Y14
	VPXOR   Y13, Y14, Y14
	VMOVDQU Y14, (CX)(R13*1)
	ADDQ    $32, R13
	ANDQ    $511, R13

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
	// Each word is the XOR of its 8 lanes. The transcript is linear over
	// XOR: this block's words join its tile's.
	MOVQ lanes+64(FP), CX
	TESTQ CX, CX
	JZ   done
	MOVQ tile+72(FP), AX
	MOVQ nchunks+32(FP), R12
	CMPQ R12, $16
	JLE  wordcount
	MOVQ $16, R12

wordcount:
	TESTQ R12, R12
	JZ    done

wordloop:
	VMOVDQU      (CX), Y8
	VEXTRACTI128 $1, Y8, X9
	VPXOR        X9, X8, X8
	VPSHUFD      $0x4e, X8, X9
	VPXOR        X9, X8, X8
	VPSHUFD      $0xb1, X8, X9
	VPXOR        X9, X8, X8
	VMOVD        X8, DX
	XORL         DX, (AX)
	ADDQ         $32, CX
	ADDQ         $4, AX
	DECQ         R12
	JNZ          wordloop

done:
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

// LOAD8 loads 8 rows into Y0..Y7 with the instruction load: row r at
// SI + r·DX (rows 4–7 from R10 = SI + 4·DX, R9 = 3·DX).
#define LOAD8(load) \
	load (SI), Y0;        \
	load (SI)(DX*1), Y1;  \
	load (SI)(DX*2), Y2;  \
	load (SI)(R9*1), Y3;  \
	load (R10), Y4;       \
	load (R10)(DX*1), Y5; \
	load (R10)(DX*2), Y6; \
	load (R10)(R9*1), Y7

// TRANSPOSE8_STORE transposes the 8×8 words in Y0..Y7 (row r in Yr) and
// stores column j at DI + 64·j: eight rows of a packed column panel (16
// words a row) get eight columns. It uses Y8..Y15.
#define TRANSPOSE8_STORE \
	VUNPCKLPS Y1, Y0, Y8; \
	VUNPCKHPS Y1, Y0, Y9; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKHPS Y3, Y2, Y11; \
	VUNPCKLPS Y5, Y4, Y12; \
	VUNPCKHPS Y5, Y4, Y13; \
	VUNPCKLPS Y7, Y6, Y14; \
	VUNPCKHPS Y7, Y6, Y15; \
	VSHUFPS $0x44, Y10, Y8, Y0; \
	VSHUFPS $0xEE, Y10, Y8, Y1; \
	VSHUFPS $0x44, Y11, Y9, Y2; \
	VSHUFPS $0xEE, Y11, Y9, Y3; \
	VSHUFPS $0x44, Y14, Y12, Y4; \
	VSHUFPS $0xEE, Y14, Y12, Y5; \
	VSHUFPS $0x44, Y15, Y13, Y6; \
	VSHUFPS $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15; \
	VMOVDQU Y8, (DI); \
	VMOVDQU Y9, 64(DI); \
	VMOVDQU Y10, 128(DI); \
	VMOVDQU Y11, 192(DI); \
	VMOVDQU Y12, 256(DI); \
	VMOVDQU Y13, 320(DI); \
	VMOVDQU Y14, 384(DI); \
	VMOVDQU Y15, 448(DI)

// func transpose8AVX2(dst *uint32, src *uint32, srcStride int, blocks int)
// For each block b < blocks, transposes the 8×8 words src[r·srcStride + 8b + j]
// (r, j < 8; srcStride in words) into dst[(8b + j)·16 + r]: eight rows of a
// packed column panel (16 words a row) get eight columns.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	SHLQ $2, DX
	MOVQ blocks+24(FP), CX
	TESTQ CX, CX
	JLE  trdone
	LEAQ (DX)(DX*2), R9 // 3 rows
	LEAQ (SI)(DX*4), R10

trloop:
	LOAD8(VMOVDQU)
	TRANSPOSE8_STORE
	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ $512, DI
	DECQ CX
	JNZ  trloop

trdone:
	VZEROUPPER
	RET

// func packPairsAVX2(dst *uint32, src *int8, srcStride int, blocks int)
// transpose8AVX2 reading int8 rows (srcStride bytes apart) and widening them
// as it loads: for each block b < blocks, entries 16b ..< 16b+16 of the 8
// rows, as 8 int16 pairs a row, go to dst[(8b + j)·16 + r] (pair j of row
// r). It packs a column panel's pairs without a widened copy of the rows.
TEXT ·packPairsAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ srcStride+16(FP), DX
	MOVQ blocks+24(FP), CX
	TESTQ CX, CX
	JLE  ppdone
	LEAQ (DX)(DX*2), R9 // 3 rows
	LEAQ (SI)(DX*4), R10

pploop:
	LOAD8(VPMOVSXBW)
	TRANSPOSE8_STORE
	ADDQ $16, SI
	ADDQ $16, R10
	ADDQ $512, DI
	DECQ CX
	JNZ  pploop

ppdone:
	VZEROUPPER
	RET


// SPARSE adds Ylo and Yhi (the 16-row column of one entry, int32) into the
// accumulator row at byte offset 64·first(idx) and subtracts them from the
// one at 64·second(idx+2).
#define SPARSE(off, lo, hi) \
	MOVWQZX off(R8), AX          \
	SHLQ    $6, AX               \
	MOVWQZX off+2(R8), BX        \
	SHLQ    $6, BX               \
	VPADDD  (DI)(AX*1), lo, Y4   \
	VPADDD  32(DI)(AX*1), hi, Y5 \
	VMOVDQU Y4, (DI)(AX*1)       \
	VMOVDQU Y5, 32(DI)(AX*1)     \
	VMOVDQU (DI)(BX*1), Y4       \
	VMOVDQU 32(DI)(BX*1), Y5     \
	VPSUBD  lo, Y4, Y4           \
	VPSUBD  hi, Y5, Y5           \
	VMOVDQU Y4, (DI)(BX*1)       \
	VMOVDQU Y5, 32(DI)(BX*1)

// func sparseAccAVX2(panel *uint32, steps int, idx *uint16, acc *int32)
// For each pair step s of the packed panel (16 words: entries 2s and 2s+1 of
// 16 rows), acc[first(l)] += column l and acc[second(l)] −= column l for
// l = 2s, 2s+1, where acc is r rows of 16 int32 and idx holds first(l),
// second(l) for each l.
TEXT ·sparseAccAVX2(SB), NOSPLIT, $0-32
	MOVQ panel+0(FP), SI
	MOVQ steps+8(FP), CX
	MOVQ idx+16(FP), R8
	MOVQ acc+24(FP), DI
	MOVL $1, AX
	MOVL AX, X14
	VPBROADCASTD X14, Y14 // int16 pairs (1, 0): the step's first entry
	MOVL $0x10000, AX
	MOVL AX, X15
	VPBROADCASTD X15, Y15 // (0, 1): its second
	TESTQ CX, CX
	JLE  sparsedone

sparseloop:
	VMOVDQU  (SI), Y8
	VMOVDQU  32(SI), Y9
	VPMADDWD Y14, Y8, Y0
	VPMADDWD Y14, Y9, Y1
	VPMADDWD Y15, Y8, Y2
	VPMADDWD Y15, Y9, Y3
	SPARSE(0, Y0, Y1)
	SPARSE(4, Y2, Y3)
	ADDQ $64, SI
	ADDQ $8, R8
	DECQ CX
	JNZ  sparseloop

sparsedone:
	VZEROUPPER
	RET

// SPARSE16 adds Y (the 16-row column of one entry, int16) into the
// accumulator row at byte offset 32·first(idx) and subtracts it from the one
// at 32·second(idx+2).
#define SPARSE16(off, col) \
	MOVWQZX off(R8), AX        \
	SHLQ    $5, AX             \
	MOVWQZX off+2(R8), BX      \
	SHLQ    $5, BX             \
	VPADDW  (DI)(AX*1), col, Y4 \
	VMOVDQU Y4, (DI)(AX*1)     \
	VMOVDQU (DI)(BX*1), Y5     \
	VPSUBW  col, Y5, Y5        \
	VMOVDQU Y5, (DI)(BX*1)

// func sparseAcc16AVX2(panel *uint32, steps int, idx *uint16, acc *int16)
// sparseAccAVX2 with int16 accumulators, half the loads and stores, for
// factors whose columns are sums short enough for int16. Each step's two
// entries are split out of the panel's words and packed to 16 int16
// (VPACKSSDW, exact: the words' halves are int16), rows in the order 0–3,
// 8–11, 4–7, 12–15: acc is r rows of 16 int16 in that order.
TEXT ·sparseAcc16AVX2(SB), NOSPLIT, $0-32
	MOVQ panel+0(FP), SI
	MOVQ steps+8(FP), CX
	MOVQ idx+16(FP), R8
	MOVQ acc+24(FP), DI
	TESTQ CX, CX
	JLE  sparse16done

sparse16loop:
	VMOVDQU   (SI), Y8
	VMOVDQU   32(SI), Y9
	VPSLLD    $16, Y8, Y0
	VPSLLD    $16, Y9, Y1
	VPSRAD    $16, Y0, Y0
	VPSRAD    $16, Y1, Y1
	VPACKSSDW Y1, Y0, Y2 // the step's first entry
	VPSRAD    $16, Y8, Y0
	VPSRAD    $16, Y9, Y1
	VPACKSSDW Y1, Y0, Y3 // its second
	SPARSE16(0, Y2)
	SPARSE16(4, Y3)
	ADDQ $64, SI
	ADDQ $8, R8
	DECQ CX
	JNZ  sparse16loop

sparse16done:
	VZEROUPPER
	RET

// WIDEN2 widens the two halves of yv (8 int16 each; xv is its low half) to
// int32 and stores them at lo and hi.
#define WIDEN2(yv, xv, lo, hi) \
	VPMOVSXWD    xv, Y0;     \
	VMOVDQU      Y0, lo;     \
	VEXTRACTI128 $1, yv, X1; \
	VPMOVSXWD    X1, Y1;     \
	VMOVDQU      Y1, hi

// func unpackAcc16AVX2(dst *int32, rowStride int, acc *int16, groups int)
// Writes sparseAcc16AVX2's accumulators out as int32 rows: for each group
// g < groups, accumulator rows 8g ..< 8g+8 (16 lanes each, in that kernel's
// lane order) are transposed 8×16 (three rounds of unpacks) and widened, so
// that dst[c·rowStride + 8g + i] = acc[8g+i][lane of panel row c].
TEXT ·unpackAcc16AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ rowStride+8(FP), BX
	SHLQ $2, BX
	MOVQ acc+16(FP), SI
	MOVQ groups+24(FP), CX
	TESTQ CX, CX
	JLE  unpackdone
	LEAQ (BX)(BX*2), R9 // 3 rows

unpackloop:
	LEAQ    (DI)(BX*4), R10  // panel row 4
	LEAQ    (R10)(BX*4), R11 // row 8
	LEAQ    (R11)(BX*4), R12 // row 12
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU 128(SI), Y4
	VMOVDQU 160(SI), Y5
	VMOVDQU 192(SI), Y6
	VMOVDQU 224(SI), Y7
	VPUNPCKLWD  Y1, Y0, Y8
	VPUNPCKHWD  Y1, Y0, Y9
	VPUNPCKLWD  Y3, Y2, Y10
	VPUNPCKHWD  Y3, Y2, Y11
	VPUNPCKLWD  Y5, Y4, Y12
	VPUNPCKHWD  Y5, Y4, Y13
	VPUNPCKLWD  Y7, Y6, Y14
	VPUNPCKHWD  Y7, Y6, Y15
	VPUNPCKLDQ  Y10, Y8, Y0
	VPUNPCKHDQ  Y10, Y8, Y1
	VPUNPCKLDQ  Y11, Y9, Y2
	VPUNPCKHDQ  Y11, Y9, Y3
	VPUNPCKLDQ  Y14, Y12, Y4
	VPUNPCKHDQ  Y14, Y12, Y5
	VPUNPCKLDQ  Y15, Y13, Y6
	VPUNPCKHDQ  Y15, Y13, Y7
	VPUNPCKLQDQ Y4, Y0, Y8  // lanes 0 | 8: panel rows 0 | 4
	VPUNPCKHQDQ Y4, Y0, Y9  // lanes 1 | 9: rows 1 | 5
	VPUNPCKLQDQ Y5, Y1, Y10 // rows 2 | 6
	VPUNPCKHQDQ Y5, Y1, Y11 // rows 3 | 7
	VPUNPCKLQDQ Y6, Y2, Y12 // lanes 4 | 12: rows 8 | 12
	VPUNPCKHQDQ Y6, Y2, Y13 // rows 9 | 13
	VPUNPCKLQDQ Y7, Y3, Y14 // rows 10 | 14
	VPUNPCKHQDQ Y7, Y3, Y15 // rows 11 | 15
	WIDEN2(Y8, X8, (DI), (R10))
	WIDEN2(Y9, X9, (DI)(BX*1), (R10)(BX*1))
	WIDEN2(Y10, X10, (DI)(BX*2), (R10)(BX*2))
	WIDEN2(Y11, X11, (DI)(R9*1), (R10)(R9*1))
	WIDEN2(Y12, X12, (R11), (R12))
	WIDEN2(Y13, X13, (R11)(BX*1), (R12)(BX*1))
	WIDEN2(Y14, X14, (R11)(BX*2), (R12)(BX*2))
	WIDEN2(Y15, X15, (R11)(R9*1), (R12)(R9*1))
	ADDQ $256, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  unpackloop

unpackdone:
	VZEROUPPER
	RET
