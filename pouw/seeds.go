package pouw

import (
	"encoding/binary"

	"lukechampine.com/blake3"
)

// Certificate versions (§3). Versions 1 and 2 derive the noise seeds from the
// raw commitments ("legacy"); version 3 salts them and binds m and n. Only
// version 3, Pearl mainnet's, is mined; all three verify when asked for.
const (
	CertV1     = 1
	CertV2     = 2
	CertSalted = 3
)

// checkCertVersion rejects a certificate version this package does not know.
func checkCertVersion(v uint32) error {
	if v < CertV1 || v > CertSalted {
		return ruleErr(ErrCertVersion, "certificate version %d (want 1, 2 or 3)", v)
	}
	return nil
}

// checkMinable rejects a certificate version the miner cannot mine: all but
// the salted one, whose seeds bind m and n.
func checkMinable(v uint32) error {
	if err := checkCertVersion(v); err != nil {
		return err
	}
	if v != CertSalted {
		return ruleErr(ErrCertVersion, "certificate version %d is not mined (only %d)", v, CertSalted)
	}
	return nil
}

// saltA and saltB key the salted commitments of certificate version 3:
// BLAKE3 of "pearl/cert-v3/noise-seed/A" and ".../B".
var (
	saltA = blake3.Sum256([]byte("pearl/cert-v3/noise-seed/A"))
	saltB = blake3.Sum256([]byte("pearl/cert-v3/noise-seed/B"))
)

// JobKey is H(header ‖ config): the key of both commitments (§3).
func JobKey(h Header, c Config) [32]byte {
	var msg [HeaderSize + ConfigSize]byte
	hb, cb := h.bytes(), c.bytes()
	copy(msg[:HeaderSize], hb[:])
	copy(msg[HeaderSize:], cb[:])
	return blake3.Sum256(msg[:])
}

// seeds are the two noise seeds of a product. sA also keys the ticket hash.
type seeds struct {
	sB [32]byte // B's noise seed, fixed by the job and B alone
	sA [32]byte // A's noise seed, fixed by sB and A
}

// saltedCommitment is H_salt(root ‖ u32(rows) ‖ 28 zero bytes): one block.
func saltedCommitment(salt *[32]byte, root [32]byte, rows uint32) [32]byte {
	var msg [64]byte
	copy(msg[:32], root[:])
	binary.LittleEndian.PutUint32(msg[32:], rows)
	return keyedHash64(salt, &msg)
}

// chainCommitments returns the HA, HB that a (known) certificate version
// feeds to the seed chain: the salted commitments (version 3) or the raw
// roots hash_a, hash_b (versions 1–2).
func chainCommitments(version uint32, hashA, hashB [32]byte, m, n uint32) (ha, hb [32]byte) {
	if version == CertSalted {
		return saltedCommitment(&saltA, hashA, m), saltedCommitment(&saltB, hashB, n)
	}
	return hashA, hashB
}

// seedsFrom runs the two-stage Fiat–Shamir chain (§3): s_B = H(job_key ‖ HB),
// then s_A = H(s_B ‖ HA): B is fixed before A's noise is known.
func seedsFrom(jobKey, ha, hb [32]byte) seeds {
	var s seeds
	s.sB = hashPair(jobKey, hb)
	s.sA = hashPair(s.sB, ha)
	return s
}
