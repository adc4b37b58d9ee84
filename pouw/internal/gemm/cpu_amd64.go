//go:build amd64 && !purego

package gemm

import (
	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

// The VNNI kernel also uses AVX-512 BW/VL forms (byte broadcasts, ymm
// VPDPBUSD); the OS must save the zmm state, which x/sys/cpu checks.
// Tests switch these off through package impl to run the other paths.
var (
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI
	hasAVX2   = cpu.X86.HasAVX2
)

func init() {
	impl.Register("gemm", "avx512-vnni", &hasAVX512)
	impl.Register("gemm", "avx2", &hasAVX2)
}
