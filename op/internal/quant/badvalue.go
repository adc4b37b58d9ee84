package quant

import (
	"fmt"
	"math"
)

// BadValueError reports the first NaN or ±Inf in a quantised window, row by
// row, with its coordinates in the window Rows was given.
type BadValueError struct {
	Row, Col int
	Value    float64 // NaN, +Inf or -Inf
}

// Error says which value and where, e.g. "NaN at (1, 5)".
func (e *BadValueError) Error() string {
	return fmt.Sprintf("%v at (%d, %d)", e.Value, e.Row, e.Col)
}

// firstBad locates the first non-finite element, row by row.
func firstBad[F float32 | float64](v View[F]) error {
	for i := 0; i < v.Rows; i++ {
		for j := 0; j < v.Cols; j++ {
			x := float64(v.Data[i*v.RowStride+j*v.ColStride])
			if x-x != 0 {
				return &BadValueError{Row: i, Col: j, Value: x}
			}
		}
	}
	return nil
}

// Finite reports whether every entry of xs is finite (neither NaN nor ±Inf),
// at the lane kernels' rate: the largest magnitude's bits, 16 lanes at a
// time, reach Inf's exponent exactly when some entry is Inf or NaN.
func Finite[F float32 | float64](xs []F) bool {
	n := len(xs) / 16
	if _, bad := laneMax(xs, 16, n, 16, new(lanes)); bad {
		return false
	}
	for _, x := range xs[16*n:] {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}
