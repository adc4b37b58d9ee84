package pouw

import (
	"encoding"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	_ encoding.BinaryMarshaler   = Config{}
	_ encoding.BinaryUnmarshaler = (*Config)(nil)
	_ encoding.BinaryMarshaler   = Header{}
	_ encoding.BinaryUnmarshaler = (*Header)(nil)
	_ encoding.BinaryMarshaler   = Pattern{}
	_ encoding.BinaryUnmarshaler = (*Pattern)(nil)
)

func contiguousConfig(t testing.TB, k, r, h, w int) Config {
	t.Helper()
	rows, err := Contiguous(h)
	require.NoError(t, err)
	cols, err := Contiguous(w)
	require.NoError(t, err)
	return Config{K: uint32(k), Rank: uint16(r), Rows: rows, Cols: cols}
}

func TestConfigBytes(t *testing.T) {
	c := contiguousConfig(t, 1024, 128, 16, 8)
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, "00040000"+"8000"+"0000"+"000f00000000"+"000700000000"+
		"0000000000000000000000000000000000000000000000000000000000000000", hex.EncodeToString(b))
	fixed := c.bytes()
	assert.Equal(t, b, fixed[:])
	var back Config
	require.NoError(t, back.UnmarshalBinary(b))
	assert.Equal(t, c, back)
	assert.Equal(t, 1024, c.DotLen())
	assert.Equal(t, "k=1024 r=128 tile=16x8", c.String())
	assert.Equal(t, 16, c.TileH())
	assert.Equal(t, 8, c.TileW())
	assert.Equal(t, 1000, contiguousConfig(t, 1007, 8, 2, 2).DotLen())
}

func TestDecodeConfigRejects(t *testing.T) {
	good := contiguousConfig(t, 1000, 64, 16, 16).bytes()
	for i := 20; i < ConfigSize; i++ {
		b := good
		b[i] = 1
		_, err := decodeConfig(b[:])
		assert.Equal(t, ErrBadEncoding, CodeOf(err), "reserved byte %d", i)
	}
	b := good
	b[6] = 1 // mma_type
	_, err := decodeConfig(b[:])
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	b = good
	b[10] = 5 // a second dimension after the contiguous one would break its stride
	_, err = decodeConfig(b[:])
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	_, err = decodeConfig(good[:51])
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	_, err = decodeConfig(append(good[:], 0))
	assert.Equal(t, ErrBadEncoding, CodeOf(err))

	// UnmarshalBinary leaves the configuration unchanged on error.
	c := contiguousConfig(t, 64, 32, 2, 2)
	before := c
	assert.Equal(t, ErrBadEncoding, CodeOf(c.UnmarshalBinary(b[:])))
	assert.Equal(t, before, c)
}

// The zero Pattern is the only non-canonical one a caller can build: no
// configuration holding it encodes or passes a profile.
func TestConfigWithZeroPattern(t *testing.T) {
	c := contiguousConfig(t, 64, 32, 2, 2)
	c.Rows = Pattern{}
	_, err := c.MarshalBinary()
	assert.Equal(t, ErrPattern, CodeOf(err))
	_, err = Pattern{}.MarshalBinary()
	assert.Equal(t, ErrPattern, CodeOf(err))
	assert.Equal(t, ErrTile, CodeOf(Local.Check(c, 64, 64)))

	// Inside the package a pattern can be written by hand; one that is not
	// canonical ((1,4) then (2,2): indices repeat) never encodes.
	bad := Pattern{dims: [patternDims]patternDim{{1, 4}, {2, 2}, {8, 1}}}
	_, err = bad.MarshalBinary()
	assert.Equal(t, ErrPattern, CodeOf(err))
	c.Rows = bad
	_, err = c.MarshalBinary()
	assert.Equal(t, ErrPattern, CodeOf(err))
}

func TestHeaderBytes(t *testing.T) {
	h := Header{Version: 0x01020304, PrevBlock: [32]byte{0: 0xaa, 31: 0xbb}, MerkleRoot: [32]byte{0: 0xcc}, Timestamp: 7, Bits: 0x1d00ffff}
	b, err := h.MarshalBinary()
	require.NoError(t, err)
	require.Len(t, b, HeaderSize)
	assert.Equal(t, "04030201aa", hex.EncodeToString(b[:5]))
	assert.Equal(t, "bbcc", hex.EncodeToString(b[35:37]))
	assert.Equal(t, "07000000ffff001d", hex.EncodeToString(b[68:]))
	assert.Equal(t, hex.EncodeToString(b), h.String())
	var back Header
	require.NoError(t, back.UnmarshalBinary(b))
	assert.Equal(t, h, back)
	for _, n := range []int{0, HeaderSize - 1, HeaderSize + 1, 80} {
		assert.Equal(t, ErrBadEncoding, CodeOf(back.UnmarshalBinary(make([]byte, n))), "%d bytes", n)
	}
	assert.Equal(t, h, back, "unchanged on error")
}

func TestProfileCheck(t *testing.T) {
	cases := []struct {
		profile    Profile
		k, r, h, w int
		m, n       uint64
		want       ErrorCode // 0: accepted
	}{
		{Local, 784, 32, 16, 16, 128, 1024, 0},
		{Local, 31, 32, 16, 16, 128, 128, ErrInnerDim}, // k < r
		{Local, 65537, 32, 16, 16, 128, 128, ErrInnerDim},
		{Local, 784, 48, 16, 16, 128, 128, ErrRank},    // rank not a power of two
		{Local, 784, 16, 16, 16, 128, 128, ErrRank},    // rank below 32
		{Local, 4096, 2048, 16, 16, 128, 128, ErrRank}, // rank above 1024
		{Local, 784, 0, 16, 16, 128, 128, ErrRank},
		{Local, 784, 32, 16, 18, 128, 128, ErrTile}, // h·w > 256
		{Local, 784, 32, 15, 16, 128, 128, ErrTile}, // odd h
		{Local, 784, 32, 2, 2, 128, 128, 0},         // h·w = 4
		{Local, 784, 32, 16, 16, 10, 128, ErrTile},  // tile taller than m
		{Local, 784, 32, 16, 16, 0, 128, ErrShape},
		{Local, 65536, 32, 2, 128, 128, 128, ErrOpenedSpan}, // (2+128)·65536 > 4 MiB
		{Local, 65536, 32, 16, 16, 128, 128, 0},             // 32·65536 = 2 MiB
		{Pearl, 2048, 128, 16, 16, 4096, 4096, 0},
		{Pearl, 1024, 128, 16, 16, 4096, 4096, ErrInnerDim}, // k < 16r
		{Pearl, 2048, 64, 16, 16, 4096, 4096, ErrRank},      // r < 128
		{Pearl, 2050, 128, 16, 16, 4096, 4096, ErrInnerDim}, // k not a multiple of 64
		{Pearl, 2048, 128, 4, 4, 4096, 4096, ErrTile},       // h·w < 32
		{Pearl, 65536, 128, 16, 16, 4096, 4096, 0},          // k = 4r² = 65536
		{Pearl, 65536, 1024, 16, 16, 4096, 4096, 0},
		{Local, 65536, 1024, 16, 16, 1 << 24, 1<<24 + 1, ErrShape}, // n too big
		// Pearl's prover builds circuits of at most 2¹⁹ rows: 130 opened
		// strips of 32256 bytes need 2²⁰, though the span is below 4 MiB.
		{Pearl, 32256, 128, 2, 128, 1 << 20, 1 << 20, ErrCircuitSize},
		{Local, 32256, 128, 2, 128, 1 << 20, 1 << 20, 0},
		{Pearl, 24576, 128, 2, 128, 1 << 20, 1 << 20, 0},  // (2+128)·24576: 2¹⁹ rows at most
		{Pearl, 65536, 1024, 16, 16, 1 << 16, 1 << 16, 0}, // Pearl's largest square: degree 19
		{Profile(0), 784, 32, 16, 16, 128, 128, ErrProfile},
		{Profile(3), 784, 32, 16, 16, 128, 128, ErrProfile},
	}
	for _, c := range cases {
		cfg := contiguousConfig(t, c.k, c.r, c.h, c.w)
		err := c.profile.Check(cfg, c.m, c.n)
		if c.want == 0 {
			assert.NoError(t, err, "%+v", c)
		} else {
			assert.Equal(t, c.want, CodeOf(err), "%+v: %v", c, err)
		}
	}
}

func TestProfileNames(t *testing.T) {
	for _, p := range []Profile{Local, Pearl} {
		back, err := ParseProfile(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, back)
	}
	for _, name := range []string{"", "Local", "PEARL", "mainnet", "local "} {
		_, err := ParseProfile(name)
		assert.Equal(t, ErrProfile, CodeOf(err), "%q", name)
	}
	assert.Equal(t, "Profile(7)", Profile(7).String())
	assert.Equal(t, 32, Local.MinRank())
	assert.Equal(t, 128, Pearl.MinRank())
	assert.Equal(t, 4, Local.MinTileArea())
	assert.Equal(t, 32, Pearl.MinTileArea())
}
