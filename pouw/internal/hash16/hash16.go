// Package hash16 computes sixteen single-block keyed BLAKE3 hashes at once:
// the tickets of sixteen tiles (one 64-byte message each, keyed with s_A,
// PROTOCOL.md §5) and sixteen outputs of the noise PRF (§4.1). One hash is a
// single compression, too short for the BLAKE3 library's SIMD paths, which
// parallelise across the chunks of one long message; here each of the 16
// lanes of an AVX-512 register (or 8 of an AVX2 one) holds a different
// message instead.
package hash16

//go:generate go run gen.go

import "lukechampine.com/blake3/guts"

// Sum16 sets out[w][i], w < 8, to word w of the keyed BLAKE3 hash of message
// i, whose 16 little-endian words are msgs[0][i] … msgs[15][i]: the messages
// are stored word-major, one word of all sixteen per row, which is the
// layout the SIMD lanes need and costs callers nothing.
func Sum16(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32) {
	switch {
	case hasAVX512:
		sum16AVX512(key, msgs, out)
	case hasAVX2:
		sum16AVX2(key, msgs, out)
	default:
		sum16Generic(key, msgs, out)
	}
}

func sum16Generic(key *[8]uint32, msgs *[16][16]uint32, out *[8][16]uint32) {
	for i := 0; i < 16; i++ {
		var n guts.Node
		n.CV = *key
		for w := range n.Block {
			n.Block[w] = msgs[w][i]
		}
		n.BlockLen = guts.BlockSize
		n.Flags = guts.FlagChunkStart | guts.FlagChunkEnd | guts.FlagRoot | guts.FlagKeyedHash
		words := guts.CompressNode(n)
		for w := 0; w < 8; w++ {
			out[w][i] = words[w]
		}
	}
}
