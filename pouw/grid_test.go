package pouw

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTileLines checks the lines a grid lists without writing them out:
// their indices, owners, and which grids the fast kernels may take.
func TestTileLines(t *testing.T) {
	strided, err := FromList([]uint32{0, 1, 8, 9})
	require.NoError(t, err)
	l := newTileLines(strided, 20)
	assert.Equal(t, []int{0, 2, 4, 6}, l.offsets) // interleaved tiles
	assert.Equal(t, []int{2, 3, 10, 11}, l.line(1))
	want := []int{0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 1, 1, 2, 2, 3, 3, -1, -1, -1, -1}
	assert.Equal(t, want, l.owners(20))
	_, ok := l.regular()
	assert.False(t, ok, "strided lines")

	contiguous, err := Contiguous(4)
	require.NoError(t, err)
	l = newTileLines(contiguous, 18)
	assert.Equal(t, []int{0, 4, 8, 12}, l.offsets)
	h, ok := l.regular()
	assert.True(t, ok)
	assert.Equal(t, 4, h)

	for _, bad := range []tileLines{
		{idx: []int{0, 1, 2, 3}, offsets: []int{0, 4, 8, 13}}, // a line off its multiple of h
		{idx: []int{0, 1, 2, 4}, offsets: []int{0, 5}},        // a gap inside the lines
		{idx: indexRange(17), offsets: []int{0}},              // taller than 16
	} {
		_, ok := bad.regular()
		assert.False(t, ok, "%+v", bad)
	}
	h, ok = tileLines{}.regular()
	assert.True(t, ok, "no lines")
	assert.Equal(t, 16, h)
}
