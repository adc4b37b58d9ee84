package pouw

import (
	"encoding/binary"

	"lukechampine.com/blake3"
)

// Certificate versions (§3). Versions 1 and 2 derive the noise seeds from the
// raw commitments ("legacy"); version 3 salts them and binds m and n. Only
// version 3 is mined; all three verify.
const (
	CertV1     = 1
	CertV2     = 2
	CertSalted = 3
)

// SaltA and SaltB key the salted commitments of certificate version 3:
// BLAKE3 of "pearl/cert-v3/noise-seed/A" and ".../B".
var (
	SaltA = blake3.Sum256([]byte("pearl/cert-v3/noise-seed/A"))
	SaltB = blake3.Sum256([]byte("pearl/cert-v3/noise-seed/B"))
)

// JobKey is H(header ‖ config): the key of both commitments (§3).
func JobKey(h Header, c Config) [32]byte {
	var msg [HeaderSize + ConfigSize]byte
	hb, cb := h.Bytes(), c.Bytes()
	copy(msg[:HeaderSize], hb[:])
	copy(msg[HeaderSize:], cb[:])
	return blake3.Sum256(msg[:])
}

// Seeds are the two noise seeds of a product. SA also keys the ticket hash.
type Seeds struct {
	SB [32]byte // B's noise seed, fixed by the job and B alone
	SA [32]byte // A's noise seed, fixed by SB and A
}

// saltedCommitment is H_salt(root ‖ u32(rows) ‖ 28 zero bytes): one block.
func saltedCommitment(salt *[32]byte, root [32]byte, rows uint32) [32]byte {
	var msg [64]byte
	copy(msg[:32], root[:])
	binary.LittleEndian.PutUint32(msg[32:], rows)
	return keyedHash64(salt, &msg)
}

// DeriveSeeds runs the two-stage Fiat–Shamir chain (§3):
// s_B = H(job_key ‖ HB), s_A = H(s_B ‖ HA), where HA, HB are the salted
// commitments (version 3) or the raw roots hash_a, hash_b (versions 1–2).
func DeriveSeeds(version uint32, jobKey, hashA, hashB [32]byte, m, n uint32) (Seeds, error) {
	ha, hb, err := chainCommitments(version, hashA, hashB, m, n)
	if err != nil {
		return Seeds{}, err
	}
	return seedsFrom(jobKey, ha, hb), nil
}

// chainCommitments returns the HA, HB that certificate version feeds to the
// seed chain.
func chainCommitments(version uint32, hashA, hashB [32]byte, m, n uint32) (ha, hb [32]byte, err error) {
	switch version {
	case CertSalted:
		return saltedCommitment(&SaltA, hashA, m), saltedCommitment(&SaltB, hashB, n), nil
	case CertV1, CertV2:
		return hashA, hashB, nil
	}
	return ha, hb, ruleErr(ErrUnsupportedVersion, "certificate version %d (want 1, 2 or 3)", version)
}

// seedsFrom chains B's seed first, then A's: B is fixed before A's noise is known.
func seedsFrom(jobKey, ha, hb [32]byte) Seeds {
	var s Seeds
	s.SB = hashPair(jobKey, hb)
	s.SA = hashPair(s.SB, ha)
	return s
}

// hashPair is the unkeyed H(a ‖ b).
func hashPair(a, b [32]byte) [32]byte {
	var msg [64]byte
	copy(msg[:32], a[:])
	copy(msg[32:], b[:])
	return blake3.Sum256(msg[:])
}
