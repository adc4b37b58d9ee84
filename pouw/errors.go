package pouw

import (
	"errors"
	"fmt"
)

// ErrorCode identifies the rule that rejected a proof, a configuration or
// an input. Codes are stable: their values never change and are never
// reused, so pools, gateways and scripts may branch on them and store them.
type ErrorCode int

// The rejection codes, one per rule (docs/PROTOCOL.md §9, §10, §13).
const (
	// ErrBadEncoding: bytes that do not decode strictly (wrong length,
	// trailing bytes, counts over their bounds, non-zero reserved bytes,
	// non-canonical base64 or JSON).
	ErrBadEncoding ErrorCode = 1
	// ErrShape: m or n is zero or above 2²⁴, a dimension overflows its
	// field, or matrix data does not match its shape.
	ErrShape ErrorCode = 2
	// ErrRank: the noise rank r is not a power of two in the profile's range.
	ErrRank ErrorCode = 3
	// ErrInnerDim: k breaks the profile's rules for k given r
	// (r ≤ k ≤ 65536 locally; k%64 = 0, k ≥ 1024, 16r ≤ k ≤ 4r² for Pearl),
	// or the two operands' inner dimensions differ.
	ErrInnerDim ErrorCode = 4
	// ErrTile: the tile's height or width is odd, its area outside the
	// profile's range, or no tile fits the product (a matrix × vector).
	ErrTile ErrorCode = 5
	// ErrOpenedSpan: (h+w)·dot_len, the bytes a verifier hashes, exceeds 4 MiB.
	ErrOpenedSpan ErrorCode = 6
	// ErrPattern: a periodic pattern or a tile offset that is not valid
	// (indices not ascending, not periodic, not encodable, bad offset).
	ErrPattern ErrorCode = 7
	// ErrTreeSize: a Merkle tree whose leaf count is not that of the matrix
	// it commits to.
	ErrTreeSize ErrorCode = 8
	// ErrBadMerkleProof: an opening that does not hash to its committed root,
	// or that opens other leaves than the tile's rows.
	ErrBadMerkleProof ErrorCode = 9
	// ErrValueOutOfRange: an operand entry outside [-64, 64].
	ErrValueOutOfRange ErrorCode = 10
	// ErrHighHash: the ticket is above the bound: a valid computation, but
	// no win.
	ErrHighHash ErrorCode = 11
	// ErrCertVersion: a certificate version that is unknown, or that this
	// miner cannot mine (only version 3 is mined), or other than the one the
	// verifier expects.
	ErrCertVersion ErrorCode = 12
	// ErrProfile: an unknown profile, or other than the one expected.
	ErrProfile ErrorCode = 13
	// ErrTarget: a target that is zero, negative, overflows 256 bits, or
	// is not the expansion of the header's nbits.
	ErrTarget ErrorCode = 14
	// ErrCircuitSize: a configuration whose certificate circuit Pearl's
	// prover cannot build (the pearl profile only).
	ErrCircuitSize ErrorCode = 15
	// ErrNoJob: the job source has no job (the gateway paused mining or
	// cannot be reached); products are computed unmined meanwhile.
	ErrNoJob ErrorCode = 16
	// ErrSelfCheck: a winning tile whose proof fails verification: a
	// kernel computed a wrong transcript. The proof is never reported.
	ErrSelfCheck ErrorCode = 17
	// ErrBadInput: other input that cannot be multiplied or mined (a
	// nil matrix, a bad policy).
	ErrBadInput ErrorCode = 18
)

var errorCodeNames = map[ErrorCode]string{
	ErrBadEncoding:     "ErrBadEncoding",
	ErrShape:           "ErrShape",
	ErrRank:            "ErrRank",
	ErrInnerDim:        "ErrInnerDim",
	ErrTile:            "ErrTile",
	ErrOpenedSpan:      "ErrOpenedSpan",
	ErrPattern:         "ErrPattern",
	ErrTreeSize:        "ErrTreeSize",
	ErrBadMerkleProof:  "ErrBadMerkleProof",
	ErrValueOutOfRange: "ErrValueOutOfRange",
	ErrHighHash:        "ErrHighHash",
	ErrCertVersion:     "ErrCertVersion",
	ErrProfile:         "ErrProfile",
	ErrTarget:          "ErrTarget",
	ErrCircuitSize:     "ErrCircuitSize",
	ErrNoJob:           "ErrNoJob",
	ErrSelfCheck:       "ErrSelfCheck",
	ErrBadInput:        "ErrBadInput",
}

// String returns the code's name, e.g. "ErrHighHash".
func (c ErrorCode) String() string {
	if s, ok := errorCodeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("ErrorCode(%d)", int(c))
}

// RuleError is the error returned for anything the protocol or the miner
// rejects: a stable Code and a description of what and where.
type RuleError struct {
	Code        ErrorCode
	Description string
}

// Error returns "Code: description", e.g. "ErrHighHash: ticket … is above the bound".
func (e RuleError) Error() string { return e.Code.String() + ": " + e.Description }

// ruleErr builds a RuleError with a formatted description.
func ruleErr(c ErrorCode, format string, args ...any) RuleError {
	return RuleError{Code: c, Description: fmt.Sprintf(format, args...)}
}

// CodeOf returns the ErrorCode carried by err (directly or wrapped), or 0 if
// err is nil or not a RuleError.
func CodeOf(err error) ErrorCode {
	var re RuleError
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}
