package quant

import "fmt"

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
