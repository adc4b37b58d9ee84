//go:build amd64 && !purego

package hash16

import (
	"golang.org/x/sys/cpu"
	"lukechampine.com/blake3/guts"

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

//go:noescape
func chunks8AVX2(key *[8]uint32, in *byte, ctr *[16]uint32, flags uint32, out *[8][8]uint32)

//go:noescape
func parents8AVX2(key *[8]uint32, lo, hi *[8][8]uint32, flags uint32, out *[8][8]uint32)

// groupsAVX2 is Groups on chunks8AVX2 and parents8AVX2. Blocks hold eight
// chaining values word-major: group g's chunks are blocks 2g and 2g+1, and
// each of the four parent levels pairs blocks 2j and 2j+1 into block j, so
// that after level L block j holds 2^(4−L) nodes of each of 2^(L−1) groups,
// in group order, and after the fourth, block 0 holds every group's root in
// lane g. Lanes beyond the groups hold garbage that no valid lane reads.
func groupsAVX2(key *[8]uint32, flags uint32, groups []*[GroupBytes]byte, counters []uint64, cvs [][8]uint32) {
	var blocks [16][8][8]uint32
	var ctr [16]uint32
	for g, grp := range groups {
		for h := range 2 {
			for i := range 8 {
				c := counters[g] + uint64(8*h+i)
				ctr[i], ctr[8+i] = uint32(c), uint32(c>>32)
			}
			chunks8AVX2(key, &grp[8*guts.ChunkSize*h], &ctr, flags, &blocks[2*g+h])
		}
	}
	n := 2 * len(groups)
	for range 4 {
		n = (n + 1) / 2
		for j := range n {
			parents8AVX2(key, &blocks[2*j], &blocks[2*j+1], flags|guts.FlagParent, &blocks[j])
		}
	}
	for g := range groups {
		for w := range 8 {
			cvs[g][w] = blocks[0][w][g]
		}
	}
}

//go:noescape
func blocks8AVX2(key *[8]uint32, in *[8][16]uint32, out *[8][8]uint32)

//go:noescape
func noise8AVX2(key, label *[8]uint32, counter uint32, out *[256]byte)
