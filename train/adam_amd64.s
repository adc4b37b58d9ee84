//go:build amd64 && !purego

#include "textflag.h"

// func adamStep32AVX2(w, grad, m, v *float32, n int, k *[9]float32)
//
// Eight elements a step, operation for operation as adamStep (adam.go), with
// k = {1/batch or 1, β₁, β₂, 1−β₁, 1−β₂, c₁, c₂, ε, −η}.
TEXT ·adamStep32AVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y7   // 1/batch
	VBROADCASTSS 4(AX), Y8   // β₁
	VBROADCASTSS 8(AX), Y9   // β₂
	VBROADCASTSS 12(AX), Y10 // 1−β₁
	VBROADCASTSS 16(AX), Y11 // 1−β₂
	VBROADCASTSS 20(AX), Y12 // c₁
	VBROADCASTSS 24(AX), Y13 // c₂
	VBROADCASTSS 28(AX), Y14 // ε
	VBROADCASTSS 32(AX), Y15 // −η
	VXORPS       Y6, Y6, Y6
	SHLQ         $2, CX
	XORQ         BX, BX

loop:
	CMPQ    BX, CX
	JAE     done
	VMOVUPS (SI)(BX*1), Y0
	VMULPS  Y7, Y0, Y0          // g/batch
	VMULPS  Y10, Y0, Y1         // g·(1−β₁)
	VMULPS  Y0, Y0, Y2          // g·g
	VMULPS  Y11, Y2, Y2         // ·(1−β₂)
	VMULPS  (R8)(BX*1), Y8, Y3  // m·β₁
	VADDPS  Y3, Y1, Y1          // m'
	VMULPS  (R9)(BX*1), Y9, Y4  // v·β₂
	VADDPS  Y4, Y2, Y2          // v'
	VMOVUPS Y1, (R8)(BX*1)
	VMOVUPS Y2, (R9)(BX*1)
	VMULPS  Y12, Y1, Y1         // m'·c₁
	VMULPS  Y13, Y2, Y2         // v'·c₂
	VSQRTPS Y2, Y2
	VADDPS  Y14, Y2, Y2         // √ + ε
	VMULPS  Y15, Y1, Y1         // ·(−η)
	VDIVPS  Y2, Y1, Y1
	VADDPS  (DI)(BX*1), Y1, Y1  // w + step
	VMOVUPS Y1, (DI)(BX*1)
	VMOVUPS Y6, (SI)(BX*1)      // g = 0
	ADDQ    $32, BX
	JMP     loop

done:
	VZEROUPPER
	RET
