//go:build !amd64 || purego

package hash16

const (
	hasAVX512 = false
	hasAVX2   = false
)

func sum16AVX512(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32) {
	sum16Generic(key, msgs, out)
}

func sum16AVX2(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32) {
	sum16Generic(key, msgs, out)
}

// groupsAVX2, blocks8AVX2 and noise8AVX2 are never called without AVX2.
func groupsAVX2(key *[8]uint32, flags uint32, groups []*[GroupBytes]byte, counters []uint64, cvs [][8]uint32) {
	panic("hash16: no AVX2 in this build")
}

func blocks8AVX2(key *[8]uint32, in *[8][16]uint32, out *[8][8]uint32) {
	panic("hash16: no AVX2 in this build")
}

func noise8AVX2(key, label *[8]uint32, counter uint32, out *[256]byte) {
	panic("hash16: no AVX2 in this build")
}
