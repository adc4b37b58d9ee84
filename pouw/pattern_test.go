package pouw

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seq(n, step int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i * step)
	}
	return out
}

// PROTOCOL.md §2 examples.
func TestPatternKnownEncodings(t *testing.T) {
	pairs := make([]uint32, 0, 64)
	for b := 0; b < 32; b++ {
		pairs = append(pairs, uint32(8*b), uint32(8*b+1))
	}
	cases := []struct {
		name    string
		indices []uint32
		hex     string
	}{
		{"contiguous 16", seq(16, 1), "000f00000000"},
		{"0,8", []uint32{0, 8}, "070100000000"},
		{"pairs every 8", pairs, "000103" + "1f0000"},
		{"single", []uint32{0}, "000000000000"},
		{"contiguous 256", seq(256, 1), "00ff00000000"},
		{"stride 3", seq(4, 3), "020300000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FromList(tc.indices)
			require.NoError(t, err)
			enc, err := p.MarshalBinary()
			require.NoError(t, err)
			assert.Equal(t, tc.hex, hex.EncodeToString(enc))
			fixed := p.bytes()
			assert.Equal(t, enc, fixed[:])
			assert.Equal(t, tc.indices, p.Indices())
			var back Pattern
			require.NoError(t, back.UnmarshalBinary(enc))
			assert.Equal(t, p, back)
		})
	}
}

func TestPatternFromListRejects(t *testing.T) {
	for name, idx := range map[string][]uint32{
		"empty":            {},
		"not from zero":    {1, 2},
		"not ascending":    {0, 2, 1},
		"duplicate":        {0, 1, 1},
		"aperiodic":        {0, 1, 3},
		"four dimensions":  fourDims(),
		"does not nest":    {0, 2, 3, 5},
		"period too large": {0, 1 << 24},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromList(idx)
			assert.Equal(t, ErrPattern, CodeOf(err), "%v", err)
		})
	}
}

func fourDims() []uint32 {
	var out []uint32
	for d := 0; d < 2; d++ {
		for c := 0; c < 2; c++ {
			for b := 0; b < 2; b++ {
				for a := 0; a < 2; a++ {
					out = append(out, uint32(a+4*b+16*c+64*d))
				}
			}
		}
	}
	return out
}

// Every 6-byte string either decodes to a pattern that encodes back to the
// same bytes, or is rejected; sampled exhaustively on the first two bytes.
func TestPatternDecodeStrictRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(b []byte) {
		p, err := decodePattern(b)
		if err != nil {
			assert.Equal(t, ErrBadEncoding, CodeOf(err))
			return
		}
		enc := p.bytes()
		assert.Equal(t, b, enc[:])
		// A decoded pattern is the canonical form of its own index list.
		if p.Len() <= 4096 {
			canon, err := FromList(p.Indices())
			require.NoError(t, err)
			assert.Equal(t, p, canon)
		}
	}
	for x := 0; x < 1<<16; x++ {
		check([]byte{byte(x), byte(x >> 8), 0, 0, 0, 0})
	}
	for i := 0; i < 20000; i++ {
		var b [6]byte
		for j := range b {
			if rng.IntN(3) > 0 {
				b[j] = byte(rng.IntN(4))
			} else {
				b[j] = byte(rng.Uint32())
			}
		}
		check(b[:])
	}
	// Broken single stride: (1,2) then factor 1 is just (1,4) written badly.
	_, err := decodePattern([]byte{0, 1, 0, 1, 0, 0})
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	// A dimension after a length-1 dimension.
	_, err = decodePattern([]byte{0, 0, 0, 1, 0, 0})
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	_, err = decodePattern([]byte{0, 1})
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	// UnmarshalBinary leaves the pattern unchanged on error.
	p := mustContiguous(4)
	require.Error(t, p.UnmarshalBinary([]byte{0, 1, 0, 1, 0, 0}))
	assert.Equal(t, mustContiguous(4), p)
}

func TestPatternOffsets(t *testing.T) {
	c16, err := Contiguous(16)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 16, 32}, c16.Offsets(50))
	assert.True(t, c16.IsContiguous())

	p, err := FromList([]uint32{0, 8})
	require.NoError(t, err)
	assert.False(t, p.IsContiguous())
	offs := p.Offsets(32)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23}, offs)
	// Tiles at valid offsets partition the rows they cover.
	seen := map[int]bool{}
	for _, o := range offs {
		for _, x := range p.Indices() {
			assert.False(t, seen[o+int(x)])
			seen[o+int(x)] = true
		}
	}
	assert.Len(t, seen, 32)

	// Offsets repeats the first period; it lists exactly the valid offsets.
	lists := [][]uint32{{0}, {0, 1, 2}, {0, 8}, {0, 1, 4, 5}, {0, 2, 8, 10, 32, 34, 40, 42}}
	for _, list := range lists {
		p, err := FromList(list)
		require.NoError(t, err)
		for _, size := range []int{0, 1, 7, 8, 9, 16, 31, 32, 33, 50, 100, 130} {
			var want []int
			for o := 0; o+int(p.Max()) < size; o++ {
				if p.ValidOffset(uint64(o)) {
					want = append(want, o)
				}
			}
			assert.Equal(t, want, p.Offsets(size), "%v size %d", list, size)
		}
	}
}
