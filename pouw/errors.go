package pouw

import (
	"errors"
	"fmt"
)

// ErrorCode identifies why a proof, a configuration or an input was rejected.
// Codes are stable: callers (pools, gateways, tests) may branch on them.
type ErrorCode int

// The rejection codes. Their order is part of the API; append new ones at the end.
const (
	// ErrBadEncoding: bytes that do not decode strictly (wrong length, trailing
	// bytes, counts over their bounds, non-zero reserved bytes, bad base64/JSON).
	ErrBadEncoding ErrorCode = iota + 1
	// ErrBadParams: a shape, rank, tile or pattern outside the profile's rules (PROTOCOL.md §10).
	ErrBadParams
	// ErrBadMerkleProof: an opening that does not hash to its committed root.
	ErrBadMerkleProof
	// ErrValueOutOfRange: an operand entry outside [-64, 64].
	ErrValueOutOfRange
	// ErrHighHash: the ticket is above the bound: a valid computation, but no win.
	ErrHighHash
	// ErrUnsupportedVersion: a certificate version or profile this code does not know.
	ErrUnsupportedVersion
	// ErrBadTarget: a compact target that is zero, negative or overflows.
	ErrBadTarget
	// ErrBadInput: caller input to the miner that cannot be mined or multiplied
	// (mismatched shapes, nil matrices).
	ErrBadInput
)

var errorCodeNames = map[ErrorCode]string{
	ErrBadEncoding:        "ErrBadEncoding",
	ErrBadParams:          "ErrBadParams",
	ErrBadMerkleProof:     "ErrBadMerkleProof",
	ErrValueOutOfRange:    "ErrValueOutOfRange",
	ErrHighHash:           "ErrHighHash",
	ErrUnsupportedVersion: "ErrUnsupportedVersion",
	ErrBadTarget:          "ErrBadTarget",
	ErrBadInput:           "ErrBadInput",
}

// String returns the code's name, e.g. "ErrHighHash".
func (c ErrorCode) String() string {
	if s, ok := errorCodeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("ErrorCode(%d)", int(c))
}

// RuleError is the error returned for anything the protocol rejects. It carries
// a stable Code and a human description of what and where.
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
