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
	assert.Equal(t, mustHex32(t, "8249406ca0ed15169616f692fcf076f892dbdb2a7023b852f0d47719c390017b"), saltA)
	assert.Equal(t, mustHex32(t, "11300632ec6301ca2be2af718b3f4d4f1ae9c63988e8cc044844301d71b89aa9"), saltB)
}

// PROTOCOL.md §12: the legacy seed chain with constant inputs.
func TestLegacySeedChainVector(t *testing.T) {
	jobKey := [32]byte(bytes.Repeat([]byte{0x11}, 32))
	hashA := [32]byte(bytes.Repeat([]byte{0xAA}, 32))
	hashB := [32]byte(bytes.Repeat([]byte{0xBB}, 32))
	for _, v := range []uint32{CertV1, CertV2} {
		s := deriveSeeds(t, v, jobKey, hashA, hashB, 1234, 5678)
		assert.Equal(t, mustHex32(t, "add6f7ea5feebf89c8a77e2ebfa0d82442e7dbb0046dbd48971861d12fcb0177"), s.sB)
		assert.Equal(t, mustHex32(t, "483b07b6f73105030b9482255f37723f3fed69ae916724ee8291848b8c28794b"), s.sA)
	}
}

func TestSaltedSeedChain(t *testing.T) {
	jobKey := [32]byte(bytes.Repeat([]byte{0x11}, 32))
	hashA := [32]byte(bytes.Repeat([]byte{0xAA}, 32))
	hashB := [32]byte(bytes.Repeat([]byte{0xBB}, 32))
	s := deriveSeeds(t, CertSalted, jobKey, hashA, hashB, 256, 512)

	// Recompute with the streaming hasher, byte by byte as §3 writes it.
	salted := func(salt [32]byte, root [32]byte, rows byte, rows2 byte) [32]byte {
		msg := append(append([]byte{}, root[:]...), rows, rows2, 0, 0)
		msg = append(msg, make([]byte, 28)...)
		h := blake3.New(32, salt[:])
		h.Write(msg)
		return [32]byte(h.Sum(nil))
	}
	ha := salted(saltA, hashA, 0x00, 0x01) // m = 256
	hb := salted(saltB, hashB, 0x00, 0x02) // n = 512
	sB := blake3.Sum256(append(jobKey[:], hb[:]...))
	sA := blake3.Sum256(append(sB[:], ha[:]...))
	assert.Equal(t, sB, s.sB)
	assert.Equal(t, sA, s.sA)

	// Salting binds the shape: another m gives another A seed, same B seed.
	s2 := deriveSeeds(t, CertSalted, jobKey, hashA, hashB, 257, 512)
	assert.Equal(t, s.sB, s2.sB)
	assert.NotEqual(t, s.sA, s2.sA)
	// The legacy chain ignores the shape.
	assert.Equal(t, deriveSeeds(t, CertV1, jobKey, hashA, hashB, 1, 1), deriveSeeds(t, CertV1, jobKey, hashA, hashB, 2, 3))
}

// deriveSeeds runs the seed chain of a certificate version from raw roots,
// as the miner and the verifier do.
func deriveSeeds(t *testing.T, version uint32, jobKey, hashA, hashB [32]byte, m, n uint32) seeds {
	t.Helper()
	require.NoError(t, checkCertVersion(version))
	ha, hb := chainCommitments(version, hashA, hashB, m, n)
	return seedsFrom(jobKey, ha, hb)
}

func TestCertVersions(t *testing.T) {
	for _, v := range []uint32{CertV1, CertV2, CertSalted} {
		assert.NoError(t, checkCertVersion(v))
	}
	assert.NoError(t, checkMinable(CertSalted))
	for _, v := range []uint32{CertV1, CertV2, 0, 4, 1 << 31} {
		assert.Equal(t, ErrCertVersion, CodeOf(checkMinable(v)), "version %d", v)
	}
	for _, v := range []uint32{0, 4, 1 << 31} {
		assert.Equal(t, ErrCertVersion, CodeOf(checkCertVersion(v)), "version %d", v)
	}
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
	hb, cb := h.bytes(), cfg.bytes()
	want := blake3.Sum256(append(hb[:], cb[:]...))
	assert.Equal(t, want, JobKey(h, cfg))
}

// Pearl's pinned salted-seed vector: the §12 inputs with m = 192, n = 320.
func TestSaltedSeedChainVector(t *testing.T) {
	jobKey := [32]byte(bytes.Repeat([]byte{0x11}, 32))
	hashA := [32]byte(bytes.Repeat([]byte{0xAA}, 32))
	hashB := [32]byte(bytes.Repeat([]byte{0xBB}, 32))
	s := deriveSeeds(t, CertSalted, jobKey, hashA, hashB, 192, 320)
	assert.Equal(t, mustHex32(t, "60ed9b73c5a9599b200b6cd563e7f0d5d9a67d2402d85fd4ef966c580080d0e5"), s.sB)
	assert.Equal(t, mustHex32(t, "301784168005ec833ab0aa60006f7fe7faaa95307d8c1fc6819b2ffdd717eccf"), s.sA)
}
