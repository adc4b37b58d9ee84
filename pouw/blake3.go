package pouw

import (
	"encoding/binary"

	"lukechampine.com/blake3"
	"lukechampine.com/blake3/guts"
)

// The BLAKE3 pieces the protocol is built from (§3, §4, §5, §8): keyed
// hashes of one 64-byte block (the noise PRF, the salted commitments, the
// ticket), the chunk tree's leaves, parents and root (the commitments and
// their Merkle openings), and the unkeyed hash of two 32-byte values (the
// seed chain).

// keyWords reads a 32-byte BLAKE3 key (or chaining value) as the eight
// little-endian words the compression function takes.
func keyWords(key *[32]byte) (kw [8]uint32) {
	for i := range kw {
		kw[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	return kw
}

// cvBytes is the inverse of keyWords: a chaining value as 32 bytes.
func cvBytes(cv [8]uint32) (b [32]byte) {
	for i, w := range cv {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// leafCV is a leaf of the tree: the chaining value of chunk number idx. The
// chunk counter is what binds a leaf to its position.
func leafCV(kw *[8]uint32, chunk []byte, idx uint64) [8]uint32 {
	return guts.ChainingValue(guts.CompressChunk(chunk, kw, idx, guts.FlagKeyedHash))
}

func parentCV(kw *[8]uint32, left, right [8]uint32) [8]uint32 {
	return guts.ChainingValue(guts.ParentNode(left, right, kw, guts.FlagKeyedHash))
}

// rootOf finalises a node with the ROOT flag and returns its first 32 output
// bytes, exactly as the BLAKE3 hasher produces a 32-byte digest.
func rootOf(n guts.Node) [32]byte {
	n.Flags |= guts.FlagRoot
	out := guts.CompressNode(n)
	var cv [8]uint32
	copy(cv[:], out[:8])
	return cvBytes(cv)
}

// keyedHash64 is BLAKE3 keyed with key over exactly one 64-byte message: a
// single compression, no allocation. The PRF, the salted commitments and the
// ticket are all messages of this size.
func keyedHash64(key *[32]byte, msg *[64]byte) [32]byte {
	n := guts.Node{CV: keyWords(key)}
	n.Block = guts.BytesToWords(*msg)
	n.BlockLen = guts.BlockSize
	n.Flags = guts.FlagChunkStart | guts.FlagChunkEnd | guts.FlagRoot | guts.FlagKeyedHash
	words := guts.CompressNode(n)
	return cvBytes([8]uint32(words[:8]))
}

// blake3Keyed is the library's keyed BLAKE3 of data.
func blake3Keyed(key *[32]byte, data []byte) (out [32]byte) {
	h := blake3.New(32, key[:])
	h.Write(data)
	h.Sum(out[:0])
	return out
}

// hashPair is the unkeyed H(a ‖ b).
func hashPair(a, b [32]byte) [32]byte {
	var msg [64]byte
	copy(msg[:32], a[:])
	copy(msg[32:], b[:])
	return blake3.Sum256(msg[:])
}
