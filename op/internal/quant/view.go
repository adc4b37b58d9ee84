package quant

import "fmt"

// View is a read-only 2-D window on a float slice: element (i, j) is
// Data[i·RowStride + j·ColStride]. Row-major, column-major (thunked
// transposes), sliced views and broadcast vectors (a zero stride) are all
// views, so one quantiser reads every layout without materialising it.
type View[F float32 | float64] struct {
	Data                 []F
	Rows, Cols           int
	RowStride, ColStride int
}

// Check rejects windows that would index outside Data: a malformed tensor
// is an error, never a panic.
func (v View[F]) Check() error { return v.check() }

func (v View[F]) check() error {
	if v.Rows <= 0 || v.Cols <= 0 {
		return fmt.Errorf("empty %d×%d operand", v.Rows, v.Cols)
	}
	if v.RowStride < 0 || v.ColStride < 0 {
		return fmt.Errorf("negative strides (%d, %d)", v.RowStride, v.ColStride)
	}
	last := (v.Rows-1)*v.RowStride + (v.Cols-1)*v.ColStride
	if last >= len(v.Data) {
		return fmt.Errorf("%d×%d operand with strides (%d, %d) needs %d elements, has %d",
			v.Rows, v.Cols, v.RowStride, v.ColStride, last+1, len(v.Data))
	}
	return nil
}
