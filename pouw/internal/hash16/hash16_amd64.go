//go:build amd64 && !purego

package hash16

import (
	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

var hasAVX512 = cpu.X86.HasAVX512F

func init() { impl.Register("hash16", "avx512", &hasAVX512) }

//go:noescape
func sum16AVX512(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32)
