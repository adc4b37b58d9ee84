package pouw

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	b := c.Bytes()
	assert.Equal(t, "00040000"+"8000"+"0000"+"000f00000000"+"000700000000"+
		"0000000000000000000000000000000000000000000000000000000000000000", hex.EncodeToString(b[:]))
	back, err := DecodeConfig(b[:])
	require.NoError(t, err)
	assert.Equal(t, c, back)
	assert.Equal(t, 1024, c.DotLen())
	assert.Equal(t, "k=1024 r=128 tile=16x8", c.String())
}

func TestDecodeConfigRejects(t *testing.T) {
	good := contiguousConfig(t, 1000, 64, 16, 16).Bytes()
	for i := 20; i < ConfigSize; i++ {
		b := good
		b[i] = 1
		_, err := DecodeConfig(b[:])
		assert.Equal(t, ErrBadEncoding, CodeOf(err), "reserved byte %d", i)
	}
	b := good
	b[6] = 1 // mma_type
	_, err := DecodeConfig(b[:])
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	b = good
	b[10] = 5 // a second dimension after the contiguous one would break its stride
	_, err = DecodeConfig(b[:])
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
	_, err = DecodeConfig(good[:51])
	assert.Equal(t, ErrBadEncoding, CodeOf(err))
}

func TestProfileCheck(t *testing.T) {
	cases := []struct {
		profile    Profile
		k, r, h, w int
		m, n       uint64
		ok         bool
	}{
		{Local, 784, 32, 16, 16, 128, 1024, true},
		{Local, 31, 32, 16, 16, 128, 128, false},  // k < r
		{Local, 784, 48, 16, 16, 128, 128, false}, // rank not a power of two
		{Local, 784, 16, 16, 16, 128, 128, false}, // rank below 32
		{Local, 784, 32, 16, 18, 128, 128, false}, // h·w > 256
		{Local, 784, 32, 15, 16, 128, 128, false}, // odd h
		{Local, 784, 32, 2, 2, 128, 128, true},    // h·w = 4
		{Local, 784, 32, 16, 16, 10, 128, false},  // tile taller than m
		{Pearl, 2048, 128, 16, 16, 4096, 4096, true},
		{Pearl, 1024, 128, 16, 16, 4096, 4096, false}, // k < 16r
		{Pearl, 2048, 64, 16, 16, 4096, 4096, false},  // r < 128
		{Pearl, 2050, 128, 16, 16, 4096, 4096, false}, // k not a multiple of 64
		{Pearl, 2048, 128, 4, 4, 4096, 4096, false},   // h·w < 32
		{Pearl, 65536, 128, 16, 16, 4096, 4096, true}, // k = 4r² = 65536
		{Pearl, 65536, 1024, 16, 16, 4096, 4096, true},
		{Local, 65536, 1024, 16, 16, 1 << 24, 1<<24 + 1, false}, // n too big
	}
	for _, c := range cases {
		cfg := contiguousConfig(t, c.k, c.r, c.h, c.w)
		err := c.profile.Check(cfg, c.m, c.n)
		if c.ok {
			assert.NoError(t, err, "%+v", c)
		} else {
			assert.Equal(t, ErrBadParams, CodeOf(err), "%+v: %v", c, err)
		}
	}
}
