//go:build amd64 && !purego

package hash16

import (
	"golang.org/x/sys/cpu"

	"github.com/usefulwork/minedmatmul/internal/impl"
)

var (
	hasAVX512 = cpu.X86.HasAVX512F
	hasAVX2   = cpu.X86.HasAVX2
)

func init() {
	impl.Register("hash16", "avx512", &hasAVX512)
	impl.Register("hash16", "avx2", &hasAVX2)
}

//go:noescape
func sum16AVX512(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32)

//go:noescape
func sum8AVX2(key *[8]uint32, msgs *uint32, out *uint32)

// sum16AVX2 is Sum16 as two calls of eight lanes each.
func sum16AVX2(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32) {
	sum8AVX2(key, &msgs[0][0], &out[0][0])
	sum8AVX2(key, &msgs[0][8], &out[0][8])
}
