//go:build amd64 && !purego

package hash16

import "golang.org/x/sys/cpu"

var hasAVX512 = cpu.X86.HasAVX512F

//go:noescape
func sum16AVX512(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32)
