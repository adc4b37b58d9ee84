package pouw

import (
	"encoding/binary"
	"encoding/hex"
)

// HeaderSize is the length of an incomplete block header: Bitcoin's 80-byte
// header without the nonce, the first 76 bytes of Pearl's wire header (§2).
const HeaderSize = 76

// Header is the incomplete block header a job commits to. Hashes are kept in
// wire (internal) byte order, exactly as they are serialised.
type Header struct {
	Version    uint32
	PrevBlock  [32]byte
	MerkleRoot [32]byte
	Timestamp  uint32
	Bits       uint32 // compact target (nbits), §6
}

// MarshalBinary returns the 76-byte serialisation of h.
func (h Header) MarshalBinary() ([]byte, error) {
	b := h.bytes()
	return b[:], nil
}

// UnmarshalBinary parses exactly 76 bytes into h.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) != HeaderSize {
		return ruleErr(ErrBadEncoding, "header: %d bytes, want %d", len(b), HeaderSize)
	}
	h.Version = binary.LittleEndian.Uint32(b[0:])
	copy(h.PrevBlock[:], b[4:36])
	copy(h.MerkleRoot[:], b[36:68])
	h.Timestamp = binary.LittleEndian.Uint32(b[68:])
	h.Bits = binary.LittleEndian.Uint32(b[72:])
	return nil
}

// bytes is MarshalBinary without the allocation.
func (h Header) bytes() [HeaderSize]byte {
	var b [HeaderSize]byte
	binary.LittleEndian.PutUint32(b[0:], h.Version)
	copy(b[4:36], h.PrevBlock[:])
	copy(b[36:68], h.MerkleRoot[:])
	binary.LittleEndian.PutUint32(b[68:], h.Timestamp)
	binary.LittleEndian.PutUint32(b[72:], h.Bits)
	return b
}

// String returns the header's bytes in hex.
func (h Header) String() string {
	b := h.bytes()
	return hex.EncodeToString(b[:])
}
