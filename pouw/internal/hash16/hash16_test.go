package hash16

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"lukechampine.com/blake3"

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
