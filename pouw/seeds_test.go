package pouw

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"lukechampine.com/blake3"
)

func mustHex32(t *testing.T, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	require.Len(t, b, 32)
	return [32]byte(b)
}

func TestSalts(t *testing.T) {
	assert.Equal(t, mustHex32(t, "8249406ca0ed15169616f692fcf076f892dbdb2a7023b852f0d47719c390017b"), SaltA)
	assert.Equal(t, mustHex32(t, "11300632ec6301ca2be2af718b3f4d4f1ae9c63988e8cc044844301d71b89aa9"), SaltB)
}

// PROTOCOL.md §12: the legacy seed chain with constant inputs.
func TestLegacySeedChainVector(t *testing.T) {
	jobKey := [32]byte(bytes.Repeat([]byte{0x11}, 32))
	hashA := [32]byte(bytes.Repeat([]byte{0xAA}, 32))
	hashB := [32]byte(bytes.Repeat([]byte{0xBB}, 32))
	for _, v := range []uint32{CertV1, CertV2} {
		s, err := DeriveSeeds(v, jobKey, hashA, hashB, 1234, 5678)
		require.NoError(t, err)
		assert.Equal(t, mustHex32(t, "add6f7ea5feebf89c8a77e2ebfa0d82442e7dbb0046dbd48971861d12fcb0177"), s.SB)
		assert.Equal(t, mustHex32(t, "483b07b6f73105030b9482255f37723f3fed69ae916724ee8291848b8c28794b"), s.SA)
	}
}

func TestSaltedSeedChain(t *testing.T) {
	jobKey := [32]byte(bytes.Repeat([]byte{0x11}, 32))
	hashA := [32]byte(bytes.Repeat([]byte{0xAA}, 32))
	hashB := [32]byte(bytes.Repeat([]byte{0xBB}, 32))
	s, err := DeriveSeeds(CertSalted, jobKey, hashA, hashB, 256, 512)
	require.NoError(t, err)

	// Recompute with the streaming hasher, byte by byte as §3 writes it.
	salted := func(salt [32]byte, root [32]byte, rows byte, rows2 byte) [32]byte {
		msg := append(append([]byte{}, root[:]...), rows, rows2, 0, 0)
		msg = append(msg, make([]byte, 28)...)
		h := blake3.New(32, salt[:])
		h.Write(msg)
		return [32]byte(h.Sum(nil))
	}
	ha := salted(SaltA, hashA, 0x00, 0x01) // m = 256
	hb := salted(SaltB, hashB, 0x00, 0x02) // n = 512
	sB := blake3.Sum256(append(jobKey[:], hb[:]...))
	sA := blake3.Sum256(append(sB[:], ha[:]...))
	assert.Equal(t, sB, s.SB)
	assert.Equal(t, sA, s.SA)

	// Salting binds the shape: another m gives another A seed, same B seed.
	s2, err := DeriveSeeds(CertSalted, jobKey, hashA, hashB, 257, 512)
	require.NoError(t, err)
	assert.Equal(t, s.SB, s2.SB)
	assert.NotEqual(t, s.SA, s2.SA)

	_, err = DeriveSeeds(4, jobKey, hashA, hashB, 1, 1)
	assert.Equal(t, ErrUnsupportedVersion, CodeOf(err))
}

func TestKeyedHash64MatchesBlake3(t *testing.T) {
	var key [32]byte
	var msg [64]byte
	for i := range key {
		key[i] = byte(3*i + 1)
	}
	for i := range msg {
		msg[i] = byte(7 * i)
	}
	h := blake3.New(32, key[:])
	h.Write(msg[:])
	assert.Equal(t, [32]byte(h.Sum(nil)), keyedHash64(&key, &msg))
}

func TestJobKey(t *testing.T) {
	rows, err := Contiguous(16)
	require.NoError(t, err)
	cfg := Config{K: 1024, Rank: 128, Rows: rows, Cols: rows}
	h := Header{Version: 1, Bits: 0x207fffff, Timestamp: 42}
	hb, cb := h.Bytes(), cfg.Bytes()
	want := blake3.Sum256(append(hb[:], cb[:]...))
	assert.Equal(t, want, JobKey(h, cfg))
}

// Pearl's pinned salted-seed vector: the §12 inputs with m = 192, n = 320.
func TestSaltedSeedChainVector(t *testing.T) {
	jobKey := [32]byte(bytes.Repeat([]byte{0x11}, 32))
	hashA := [32]byte(bytes.Repeat([]byte{0xAA}, 32))
	hashB := [32]byte(bytes.Repeat([]byte{0xBB}, 32))
	s, err := DeriveSeeds(CertSalted, jobKey, hashA, hashB, 192, 320)
	require.NoError(t, err)
	assert.Equal(t, mustHex32(t, "60ed9b73c5a9599b200b6cd563e7f0d5d9a67d2402d85fd4ef966c580080d0e5"), s.SB)
	assert.Equal(t, mustHex32(t, "301784168005ec833ab0aa60006f7fe7faaa95307d8c1fc6819b2ffdd717eccf"), s.SA)
}
