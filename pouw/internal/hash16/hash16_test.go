package hash16

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"lukechampine.com/blake3"
	"lukechampine.com/blake3/guts"

	"github.com/usefulwork/minedmatmul/internal/impl"
	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// TestSum16MatchesBlake3 checks every lane against the BLAKE3 library's own
// keyed hash of the same 64-byte message.
func TestSum16MatchesBlake3(t *testing.T) { impltest.Run(t, testSum16MatchesBlake3, "hash16") }

func testSum16MatchesBlake3(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		var keyB [32]byte
		var key [8]uint32
		for w := range key {
			key[w] = rng.Uint32()
			binary.LittleEndian.PutUint32(keyB[4*w:], key[w])
		}
		var msgs [16][16]uint32
		for w := range msgs {
			for i := range msgs[w] {
				msgs[w][i] = rng.Uint32()
			}
		}
		{
			var out [8][16]uint32
			Sum16(&key, &msgs, &out)
			for i := 0; i < 16; i++ {
				var msg [64]byte
				for w := 0; w < 16; w++ {
					binary.LittleEndian.PutUint32(msg[4*w:], msgs[w][i])
				}
				h := blake3.New(32, keyB[:])
				h.Write(msg[:])
				want := h.Sum(nil)
				for w := 0; w < 8; w++ {
					if got := binary.LittleEndian.Uint32(want[4*w:]); out[w][i] != got {
						t.Fatalf("trial %d lane %d word %d: %08x, want %08x", trial, i, w, out[w][i], got)
					}
				}
			}
		}
	}
}

// BenchmarkSum16 times sixteen hashes under each implementation.
func BenchmarkSum16(b *testing.B) {
	defer impl.Reset("hash16")
	for _, name := range append(impl.List("hash16"), "") {
		impl.Select("hash16", name)
		if name == "" {
			name = "generic"
		}
		b.Run(name, func(b *testing.B) {
			var key [8]uint32
			var msgs [16][16]uint32
			var out [8][16]uint32
			for b.Loop() {
				msgs[0][0]++
				Sum16(&key, &msgs, &out)
			}
		})
	}
}

// TestGroupsMatchesChunkTree checks every group's chaining value against the
// subtree built chunk by chunk and parent by parent with the library's
// single-compression functions, for every count of groups, keyed and not,
// and counters whose low word wraps inside a group.
func TestGroupsMatchesChunkTree(t *testing.T) { impltest.Run(t, testGroupsMatchesChunkTree, "hash16") }

func testGroupsMatchesChunkTree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	want := func(key *[8]uint32, flags uint32, grp *[GroupBytes]byte, counter uint64) [8]uint32 {
		level := make([][8]uint32, 16)
		for c := range level {
			chunk := grp[c*guts.ChunkSize : (c+1)*guts.ChunkSize]
			level[c] = guts.ChainingValue(guts.CompressChunk(chunk, key, counter+uint64(c), flags))
		}
		for len(level) > 1 {
			for j := range len(level) / 2 {
				level[j] = guts.ChainingValue(guts.ParentNode(level[2*j], level[2*j+1], key, flags))
			}
			level = level[:len(level)/2]
		}
		return level[0]
	}
	for n := 0; n <= 8; n++ {
		for _, flags := range []uint32{guts.FlagKeyedHash, 0} {
			var key [8]uint32
			for w := range key {
				key[w] = rng.Uint32()
			}
			groups := make([]*[GroupBytes]byte, n)
			counters := make([]uint64, n)
			for g := range groups {
				groups[g] = new([GroupBytes]byte)
				for i := range groups[g] {
					groups[g][i] = byte(rng.Uint32())
				}
				counters[g] = rng.Uint64N(1 << 40)
			}
			if n > 0 {
				counters[0] = 1<<32 - 5 // lanes whose counters carry into the high word
			}
			cvs := make([][8]uint32, n)
			Groups(&key, flags, groups, counters, cvs)
			for g := range groups {
				if w := want(&key, flags, groups[g], counters[g]); cvs[g] != w {
					t.Fatalf("%d groups, flags %d: group %d: %08x, want %08x", n, flags, g, cvs[g], w)
				}
			}
		}
	}
}

// BenchmarkGroups times eight groups (128 KiB) under each implementation.
func BenchmarkGroups(b *testing.B) {
	defer impl.Reset("hash16")
	var key [8]uint32
	groups := make([]*[GroupBytes]byte, 8)
	for g := range groups {
		groups[g] = new([GroupBytes]byte)
	}
	counters, cvs := make([]uint64, 8), make([][8]uint32, 8)
	for _, name := range append(impl.List("hash16"), "") {
		impl.Select("hash16", name)
		if name == "" {
			name = "generic"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(8 * GroupBytes)
			for b.Loop() {
				Groups(&key, guts.FlagKeyedHash, groups, counters, cvs)
			}
		})
	}
}

// TestBlocksMatchesSum16 checks Blocks against Sum16 for every count of
// messages up to three batches and a ragged end, under every implementation.
func TestBlocksMatchesSum16(t *testing.T) { impltest.Run(t, testBlocksMatchesSum16, "hash16") }

func testBlocksMatchesSum16(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var key [8]uint32
	for w := range key {
		key[w] = rng.Uint32()
	}
	for n := 0; n <= 40; n++ {
		msgs := make([][16]uint32, n)
		for i := range msgs {
			for w := range msgs[i] {
				msgs[i][w] = rng.Uint32()
			}
		}
		out := make([][8]uint32, n+1) // one more: Blocks must not write it
		out[n] = [8]uint32{1, 2, 3}
		Blocks(&key, msgs, out)
		if out[n] != [8]uint32{1, 2, 3} {
			t.Fatalf("%d messages: wrote past them", n)
		}
		for i := range msgs {
			var in [16][16]uint32
			var o [8][16]uint32
			for w, x := range msgs[i] {
				in[w][0] = x
			}
			sum16Generic(&key, &in, &o)
			for w := range 8 {
				if out[i][w] != o[w][0] {
					t.Fatalf("%d messages: message %d word %d: %08x, want %08x", n, i, w, out[i][w], o[w][0])
				}
			}
		}
	}
}

// BenchmarkBlocks times 16 messages under each implementation.
func BenchmarkBlocks(b *testing.B) {
	defer impl.Reset("hash16")
	var key [8]uint32
	msgs, out := make([][16]uint32, 16), make([][8]uint32, 16)
	for _, name := range append(impl.List("hash16"), "") {
		impl.Select("hash16", name)
		if name == "" {
			name = "generic"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				msgs[0][0]++
				Blocks(&key, msgs, out)
			}
		})
	}
}

// TestNoiseMatchesBlake3 checks Noise against the BLAKE3 library's keyed
// hash of each message, masked and centred byte by byte, for lengths around
// its batches of 8 and 16 hashes, under every implementation.
func TestNoiseMatchesBlake3(t *testing.T) { impltest.Run(t, testNoiseMatchesBlake3, "hash16") }

func testNoiseMatchesBlake3(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var keyB, labelB [32]byte
	var key, label [8]uint32
	for w := range key {
		key[w], label[w] = rng.Uint32(), rng.Uint32()
		binary.LittleEndian.PutUint32(keyB[4*w:], key[w])
		binary.LittleEndian.PutUint32(labelB[4*w:], label[w])
	}
	for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 40} {
		counter := uint32(1<<32 - 3) // wraps inside the first batch
		out := make([]int8, 32*n+1)
		out[32*n] = 99
		Noise(&key, &label, counter, out[:32*n])
		if out[32*n] != 99 {
			t.Fatalf("%d outputs: wrote past them", n)
		}
		for i := range n {
			var msg [64]byte
			binary.LittleEndian.PutUint32(msg[:], counter+uint32(i))
			copy(msg[32:], labelB[:])
			h := blake3.New(32, keyB[:])
			h.Write(msg[:])
			for b, x := range h.Sum(nil) {
				if want := int8(x&63) - 32; out[32*i+b] != want {
					t.Fatalf("%d outputs: output %d byte %d: %d, want %d", n, i, b, out[32*i+b], want)
				}
			}
		}
	}
}
