package pouw

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompactKnownTargets(t *testing.T) {
	// Regtest: 0x7fffff·256^29.
	regtest := new(big.Int).Lsh(big.NewInt(0x7fffff), 8*29)
	assert.Equal(t, 0, regtest.Cmp(CompactToBig(0x207fffff)))
	// Bitcoin's genesis difficulty: 0xffff·256^26.
	genesis := new(big.Int).Lsh(big.NewInt(0xffff), 8*26)
	assert.Equal(t, 0, genesis.Cmp(CompactToBig(0x1d00ffff)))
	assert.Equal(t, uint32(0x207fffff), BigToCompact(regtest))
	assert.Equal(t, uint32(0x1d00ffff), BigToCompact(genesis))
}

func TestCompactEdgeCases(t *testing.T) {
	cases := []struct {
		nbits uint32
		want  int64
	}{
		{0x00000000, 0},
		{0x01003456, 0},    // exponent 1 shifts the mantissa out
		{0x01123456, 0x12}, // exponent 1 keeps one byte
		{0x02123456, 0x1234},
		{0x03123456, 0x123456},
		{0x04123456, 0x12345600},
		{0x04923456, -0x12345600}, // sign bit
		{0x05009234, 0x92340000},
		{0x20000000, 0}, // zero mantissa
	}
	for _, c := range cases {
		assert.Equal(t, 0, big.NewInt(c.want).Cmp(CompactToBig(c.nbits)), "%#08x", c.nbits)
	}
	// Negative, zero and overflowing targets are rejected as targets.
	for _, nbits := range []uint32{
		0x04923456, // negative
		0x20000000, // zero mantissa
		0,
		0x00800000, // sign bit alone: zero
		0x01003456, // the mantissa shifted out: zero
		0x22123456, // exponent 0x22 puts the mantissa above 2²⁵⁶
	} {
		_, err := Target(nbits)
		assert.Equal(t, ErrTarget, CodeOf(err), "%#08x: %v", nbits, err)
	}
	tgt, err := Target(0x207fffff)
	require.NoError(t, err)
	assert.Equal(t, 255, tgt.BitLen())
	// The largest target below 2²⁵⁶ is accepted.
	tgt, err = Target(0x2100ffff)
	require.NoError(t, err)
	assert.Equal(t, 256, tgt.BitLen())
}

func TestCompactRoundTrip(t *testing.T) {
	for _, nbits := range []uint32{0x207fffff, 0x1d00ffff, 0x1b0404cb, 0x03123456, 0x04123456, 0x05009234, 0x1e7fffff, 0x04923456} {
		assert.Equal(t, nbits, BigToCompact(CompactToBig(nbits)), "%#08x", nbits)
	}
	// A big value loses its low bytes but round-trips through compact form.
	n, _ := new(big.Int).SetString("123456789abcdef0123456789", 16)
	c := BigToCompact(n)
	assert.Equal(t, c, BigToCompact(CompactToBig(c)))
	assert.Equal(t, uint32(0), BigToCompact(big.NewInt(0)))
}

func TestExpectedMACs(t *testing.T) {
	for _, macs := range []float64{1e6, 3.5e9, 1e12, 1 << 40} {
		target := targetForExpectedMACs(macs)
		assert.InEpsilon(t, macs, expectedMACs(target), 1e-12)
		for _, r := range []int{32, 128, 1024} {
			// Local ignores the rank: the plain bound pays every MAC.
			assert.Equal(t, expectedMACs(target), Local.ExpectedMACs(target, r))
			assert.InEpsilon(t, macs, Local.ExpectedMACs(CompactToBig(Local.Nbits(macs, r)), r), 1e-4)
			// Pearl pays a tile for dot_len/r chunks: r/128 times more MACs
			// per win at the same target, and Nbits inverts that.
			assert.InEpsilon(t, macs*float64(r)/128, Pearl.ExpectedMACs(target, r), 1e-12)
			assert.InEpsilon(t, macs, Pearl.ExpectedMACs(CompactToBig(Pearl.Nbits(macs, r)), r), 1e-4)
		}
	}
	assert.Equal(t, Local.Nbits(1e9, 32), Pearl.Nbits(1e9, 128), "r = 128: no penalty")
	// Regtest's target wins about every other multiply-accumulate.
	assert.InDelta(t, 2.0, Local.ExpectedMACs(CompactToBig(0x207fffff), 32), 1e-3)
	assert.Equal(t, 0, maxUint256.Cmp(targetForExpectedMACs(0.5)))
	assert.Equal(t, 0, big.NewInt(1).Cmp(targetForExpectedMACs(1e100)))
}
