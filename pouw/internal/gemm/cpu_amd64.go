//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// The VNNI kernel also uses AVX-512 BW/VL forms (byte broadcasts, ymm
// VPDPBUSD); the OS must save the zmm state, which x/sys/cpu checks.
var (
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
	hasAVX2   = cpu.X86.HasAVX2
)
