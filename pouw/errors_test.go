package pouw

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Codes are stable: pools, gateways and scripts store and branch on their
// values, so neither a value nor a name may ever change.
func TestErrorCodesAreStable(t *testing.T) {
	for _, tc := range []struct {
		code  ErrorCode
		value int
		name  string
	}{
		{ErrBadEncoding, 1, "ErrBadEncoding"},
		{ErrShape, 2, "ErrShape"},
		{ErrRank, 3, "ErrRank"},
		{ErrInnerDim, 4, "ErrInnerDim"},
		{ErrTile, 5, "ErrTile"},
		{ErrOpenedSpan, 6, "ErrOpenedSpan"},
		{ErrPattern, 7, "ErrPattern"},
		{ErrTreeSize, 8, "ErrTreeSize"},
		{ErrBadMerkleProof, 9, "ErrBadMerkleProof"},
		{ErrValueOutOfRange, 10, "ErrValueOutOfRange"},
		{ErrHighHash, 11, "ErrHighHash"},
		{ErrCertVersion, 12, "ErrCertVersion"},
		{ErrProfile, 13, "ErrProfile"},
		{ErrTarget, 14, "ErrTarget"},
		{ErrCircuitSize, 15, "ErrCircuitSize"},
		{ErrNoJob, 16, "ErrNoJob"},
		{ErrSelfCheck, 17, "ErrSelfCheck"},
		{ErrBadInput, 18, "ErrBadInput"},
	} {
		assert.Equal(t, tc.value, int(tc.code), tc.name)
		assert.Equal(t, tc.name, tc.code.String())
	}
	// Every named code is in the table above: 1..18 and nothing else.
	assert.Len(t, errorCodeNames, 18)
	for _, c := range []ErrorCode{0, 19, -1, 1000} {
		assert.Equal(t, fmt.Sprintf("ErrorCode(%d)", int(c)), c.String())
	}
}

func TestRuleErrorAndCodeOf(t *testing.T) {
	err := ruleErr(ErrHighHash, "ticket %x is above the bound", []byte{0xab})
	assert.Equal(t, "ErrHighHash: ticket ab is above the bound", err.Error())
	assert.Equal(t, ErrHighHash, CodeOf(err))
	wrapped := fmt.Errorf("tile (0, 0): %w", fmt.Errorf("A: %w", err))
	assert.Equal(t, ErrHighHash, CodeOf(wrapped))
	var re RuleError
	assert.True(t, errors.As(wrapped, &re))
	assert.Equal(t, "ticket ab is above the bound", re.Description)
	assert.Zero(t, CodeOf(nil))
	assert.Zero(t, CodeOf(errors.New("plain")))
}
