// Package hash16 computes sixteen single-block keyed BLAKE3 hashes at once:
// the tickets of sixteen tiles (one 64-byte message each, keyed with s_A,
// PROTOCOL.md §5) and sixteen outputs of the noise PRF (§4.1). One hash is a
// single compression, too short for the BLAKE3 library's SIMD paths, which
// parallelise across the chunks of one long message; here each of the 16
// lanes of an AVX-512 register (or 8 of an AVX2 one) holds a different
// message instead.
//
// On AVX2 the same compression also takes its messages as callers store
// them: the tiles' transcripts one after another (Blocks), the PRF's
// counters for the dense noise (Noise), and the commitments' 16-chunk
// subtrees, eight chunks at once (Groups).
package hash16

//go:generate go run gen.go

import (
	"unsafe"

	"lukechampine.com/blake3/guts"
)

// Blocks sets out[i] to Sum16's hash of message msgs[i] (16 little-endian
// words), for every i < len(msgs): for messages stored one after another,
// like the tiles' transcripts. With AVX2 (and no AVX-512) eight messages
// are transposed into the lanes and their hashes back in assembly; else
// sixteen at a time through Sum16.
func Blocks[M ~[16]uint32](key *[8]uint32, msgs []M, out [][8]uint32) {
	out = out[:len(msgs)]
	if hasAVX2 && !hasAVX512 {
		i := 0
		for ; i+8 <= len(msgs); i += 8 {
			blocks8AVX2(key, (*[8][16]uint32)(unsafe.Pointer(&msgs[i])), (*[8][8]uint32)(out[i:i+8]))
		}
		if i < len(msgs) {
			var in [8][16]uint32
			var o [8][8]uint32
			for l, m := range msgs[i:] {
				in[l] = m
			}
			blocks8AVX2(key, &in, &o)
			copy(out[i:], o[:])
		}
		return
	}
	for i := 0; i < len(msgs); i += 16 {
		var in [16][16]uint32
		var o [8][16]uint32
		n := min(16, len(msgs)-i)
		for l, m := range msgs[i : i+n] {
			for w, x := range m {
				in[w][l] = x
			}
		}
		Sum16(key, &in, &o)
		for l := range n {
			for w := range 8 {
				out[i+l][w] = o[w][l]
			}
		}
	}
}

// Noise sets out[32i+b] to byte b of Sum16's hash of the message whose
// word 0 is counter+i, words 8–15 the label and the others zero, masked to
// 6 bits and centred ((x AND 63) − 32), for every i < len(out)/32: the noise
// PRF's first slot, as the dense noise factors take it (PROTOCOL.md §4.1).
// len(out) must be a multiple of 32. With AVX2 (and no AVX-512) eight
// hashes a call are built, hashed, transposed and centred in assembly, the
// message's zero words not even added.
func Noise(key, label *[8]uint32, counter uint32, out []int8) {
	if len(out)%32 != 0 {
		panic("hash16: Noise fills whole 32-byte outputs")
	}
	if hasAVX2 && !hasAVX512 {
		for len(out) >= 256 {
			noise8AVX2(key, label, counter, (*[256]byte)(unsafe.Pointer(&out[0])))
			out, counter = out[256:], counter+8
		}
		if len(out) > 0 {
			var tail [256]byte
			noise8AVX2(key, label, counter, &tail)
			for i := range out {
				out[i] = int8(tail[i])
			}
		}
		return
	}
	for ; len(out) > 0; counter += 16 {
		var msgs [16][16]uint32
		var o [8][16]uint32
		n := min(16, len(out)/32)
		for i := range n {
			msgs[0][i] = counter + uint32(i)
		}
		for w, x := range label {
			for i := range msgs[8+w] {
				msgs[8+w][i] = x
			}
		}
		Sum16(key, &msgs, &o)
		for i := range n {
			for b := range 32 {
				x := byte(o[b/4][i] >> (8 * (b % 4)))
				out[32*i+b] = int8(x&63) - 32
			}
		}
		out = out[32*n:]
	}
}

// GroupBytes is the length of the subtrees Groups hashes: 16 BLAKE3 chunks.
const GroupBytes = 16 * guts.ChunkSize

// Groups sets cvs[i] to the chaining value of the BLAKE3 subtree over the
// 16 whole chunks of groups[i], whose first chunk is chunk counters[i] of its
// message, for i < len(groups) ≤ 8: what guts.CompressBuffer and
// guts.ChainingValue give for a full buffer. flags are the hash's own
// (guts.FlagKeyedHash for a keyed hash, with key its key words); the
// groups may belong to different messages under the same key.
//
// With AVX2 (and no AVX-512, where the library's 16-lane path runs) the
// chunks are compressed eight at a time, one chunk per lane, and the
// subtrees' parents eight at a time, lanes of different groups side by side.
func Groups(key *[8]uint32, flags uint32, groups []*[GroupBytes]byte, counters []uint64, cvs [][8]uint32) {
	if len(groups) > 8 || len(counters) < len(groups) || len(cvs) < len(groups) {
		panic("hash16: Groups takes at most 8 groups, with a counter and a chaining value each")
	}
	if hasAVX2 && !hasAVX512 {
		groupsAVX2(key, flags, groups, counters, cvs)
		return
	}
	for g, grp := range groups {
		cvs[g] = guts.ChainingValue(guts.CompressBuffer(grp, GroupBytes, key, counters[g], flags))
	}
}

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
