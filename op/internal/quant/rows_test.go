package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// TestRounding checks the quantiser's edge cases: ties to even, the ends of
// the range, zero rows, and stochastic rounding's unbiasedness.
func TestRounding(t *testing.T) {
	impltest.Run(t, testRounding, "quant")
}

func testRounding(t *testing.T) {
	// Row max 64 makes the steps the values themselves: 0.5 → 0, 1.5 → 2, 2.5 → 2.
	v := View[float64]{Data: []float64{0.5, 1.5, 2.5, -0.5, -1.5, -64, 64, 63.5}, Rows: 1, Cols: 8, ColStride: 1}
	out, scale := make([]int8, 8), make([]float64, 1)
	require.NoError(t, Rows(v, out, scale, nil))
	assert.Equal(t, []int8{0, 2, 2, 0, -2, -64, 64, 64}, out)
	assert.Equal(t, 1.0, scale[0])

	zero := View[float32]{Data: make([]float32, 6), Rows: 2, Cols: 3, RowStride: 3, ColStride: 1}
	out, scale = make([]int8, 6), []float64{7, 7}
	require.NoError(t, Rows(zero, out, scale, nil))
	assert.Equal(t, make([]int8, 6), out)
	assert.Equal(t, []float64{0, 0}, scale)

	// Stochastic: 0.25 of a step rounds up a quarter of the time; every value
	// stays in range even at ±64.
	const n = 1 << 16
	d := make([]float64, n)
	for i := range d {
		d[i] = 0.25
	}
	d[0], d[1] = 64, -64
	out, scale = make([]int8, n), make([]float64, 1)
	require.NoError(t, Rows(View[float64]{Data: d, Rows: 1, Cols: n, ColStride: 1}, out, scale, &Noise{Key: 42}))
	var ups int
	for _, q := range out[2:] {
		require.True(t, q == 0 || q == 1)
		ups += int(q)
	}
	assert.Equal(t, int8(64), out[0])
	assert.Equal(t, int8(-64), out[1])
	assert.InDelta(t, 0.25, float64(ups)/(n-2), 0.01)
}

// TestQuantParallel checks that splitting a large operand across goroutines
// changes no bit, for both roundings and both memory orders, and that a NaN
// is still located in the whole operand's coordinates.
func TestQuantParallel(t *testing.T) {
	impltest.Run(t, testQuantParallel, "quant")
}

func testQuantParallel(t *testing.T) {
	// 75 000 and 80 000 elements: split. 40 rows of contiguous columns
	// are cut between groups of 16 lanes (16 + 24).
	for _, sh := range [][2]int{{300, 250}, {40, 2000}} {
		r, c := sh[0], sh[1]
		rng := rand.New(rand.NewPCG(2, 2))
		d := normals(rng, r*c)
		d32 := make([]float32, len(d))
		for i, x := range d {
			d32[i] = float32(x)
		}
		for _, rnd := range []*Noise{nil, {Key: 9, Base: 3}} {
			for _, strides := range [][2]int{{c, 1}, {1, r}} {
				compareParallel(t, View[float64]{Data: d, Rows: r, Cols: c, RowStride: strides[0], ColStride: strides[1]}, rnd)
				compareParallel(t, View[float32]{Data: d32, Rows: r, Cols: c, RowStride: strides[0], ColStride: strides[1]}, rnd)
			}
		}
	}
	const r, c = 300, 250
	d := normals(rand.New(rand.NewPCG(2, 2)), r*c)
	bad := append([]float64(nil), d...)
	bad[250*c+7] = math.Inf(-1)
	err := Rows(View[float64]{Data: bad, Rows: r, Cols: c, RowStride: c, ColStride: 1}, make([]int8, r*c), make([]float64, r), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(250, 7)")
}

// compareParallel checks Rows (split across the cores) against the
// reference on one goroutine.
func compareParallel[F float32 | float64](t *testing.T, v View[F], rnd *Noise) {
	t.Helper()
	want, got := make([]int8, v.Rows*v.Cols), make([]int8, v.Rows*v.Cols)
	ws, gs := make([]float64, v.Rows), make([]float64, v.Rows)
	require.NoError(t, quantPart(v, want, ws, rnd))
	require.NoError(t, Rows(v, got, gs, rnd))
	require.Equal(t, want, got, "%dx%d strides %d,%d", v.Rows, v.Cols, v.RowStride, v.ColStride)
	require.Equal(t, ws, gs)
}

func normals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// TestRowsBadWindow checks that windows that are empty or reach outside
// their data are errors, never panics, and that one ending exactly at the
// data's end is fine, under every implementation.
func TestRowsBadWindow(t *testing.T) {
	impltest.Run(t, func(t *testing.T) {
		d := make([]float32, 12)
		for _, tc := range []struct {
			v    View[float32]
			want string // "" for no error
		}{
			{View[float32]{Data: d, Rows: 0, Cols: 4, RowStride: 4, ColStride: 1}, "empty 0×4 operand"},
			{View[float32]{Data: d, Rows: 3, Cols: 0, RowStride: 4, ColStride: 1}, "empty 3×0 operand"},
			{View[float32]{}, "empty 0×0 operand"},
			{View[float32]{Data: d, Rows: -1, Cols: 4, RowStride: 4, ColStride: 1}, "empty -1×4 operand"},
			{View[float32]{Data: d, Rows: 3, Cols: 4, RowStride: -4, ColStride: 1}, "negative strides (-4, 1)"},
			{View[float32]{Data: d, Rows: 3, Cols: 4, RowStride: 5, ColStride: 1}, "3×4 operand with strides (5, 1) needs 14 elements, has 12"},
			{View[float32]{Data: d, Rows: 4, Cols: 3, RowStride: 1, ColStride: 4}, ""},
		} {
			rows, cols := max(tc.v.Rows, 0), max(tc.v.Cols, 0)
			var err error
			require.NotPanics(t, func() {
				err = Rows(tc.v, make([]int8, rows*cols), make([]float64, rows), nil)
			})
			if tc.want == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, tc.want)
			}
		}
	}, "quant")
}
