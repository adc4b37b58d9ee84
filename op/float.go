package op

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/usefulwork/minedmatmul/op/internal/quant"
)

// A product the miner would not mine (a matrix × vector product has no room
// for a tile, k may be below the noise rank, the job source may be paused)
// gains nothing from int7: it is computed in float instead, with the BLAS
// that Gorgonia's own products call (gonum's, through gorgonia.org/tensor)
// and the same calls for the same layouts, so its numerics are stock.

// floatProduct sets dst (rows×cols, row-major) to left·btᵀ, or adds that to
// dst when incr is set. left is rows×k and bt is cols×k. The BLAS routine
// follows the kind, as Gorgonia's does: GEMM for MatMul (whatever the
// shape), GEMV for MatVec, DOT for VecDot.
func floatProduct[F float32 | float64](kind Kind, dst []F, left, bt quant.View[F], incr bool) {
	var beta F
	if incr {
		beta = 1
	}
	m, n, k := left.Rows, bt.Rows, left.Cols
	switch kind {
	case VecDot:
		x, incX := vector(left)
		y, incY := vector(bt)
		d := dot(k, x, incX, y, incY)
		dst[0] = beta*dst[0] + d
	case MatVec: // y = op(A)·x
		left = blasable(left)
		t, ld := layout(left)
		x, incX := vector(bt)
		gemv(t, left, ld, x, incX, beta, dst)
	default:
		left, bt = blasable(left), blasable(bt)
		ta, lda := layout(left)
		tb, ldb := layout(bt)
		// B = btᵀ: bt's own layout read transposed.
		if tb == blas.NoTrans {
			tb = blas.Trans
		} else {
			tb = blas.NoTrans
		}
		switch d := any(dst).(type) {
		case []float32:
			gonum.Implementation{}.Sgemm(ta, tb, m, n, k, 1, any(left.Data).([]float32), lda, any(bt.Data).([]float32), ldb, float32(beta), d, n)
		case []float64:
			gonum.Implementation{}.Dgemm(ta, tb, m, n, k, 1, any(left.Data).([]float64), lda, any(bt.Data).([]float64), ldb, float64(beta), d, n)
		}
	}
}

// layout returns how BLAS reads v (rows×cols): row-major with leading
// dimension RowStride, or column-major (a transposed row-major matrix) with
// leading dimension ColStride. v must be blasable.
func layout[F float32 | float64](v quant.View[F]) (blas.Transpose, int) {
	if v.ColStride == 1 && v.RowStride >= max(v.Cols, 1) {
		return blas.NoTrans, v.RowStride
	}
	return blas.Trans, v.ColStride
}

// blasable returns v itself when BLAS can read it in place, else a
// row-major copy (a strided view of a larger tensor).
func blasable[F float32 | float64](v quant.View[F]) quant.View[F] {
	if (v.ColStride == 1 && v.RowStride >= max(v.Cols, 1)) || (v.RowStride == 1 && v.ColStride >= max(v.Rows, 1)) {
		return v
	}
	c := quant.View[F]{Data: make([]F, v.Rows*v.Cols), Rows: v.Rows, Cols: v.Cols, RowStride: v.Cols, ColStride: 1}
	for i := range v.Rows {
		for j := range v.Cols {
			c.Data[i*v.Cols+j] = v.Data[i*v.RowStride+j*v.ColStride]
		}
	}
	return c
}

// vector returns a one-row view BLAS can step through, and its increment: v
// itself, or a contiguous copy of a broadcast (zero-stride) vector.
func vector[F float32 | float64](v quant.View[F]) ([]F, int) {
	switch {
	case v.ColStride > 0:
		return v.Data, v.ColStride
	case v.Cols == 1:
		return v.Data, 1 // a single element: any increment reads it
	}
	c := make([]F, v.Cols)
	for i := range c {
		c[i] = v.Data[0]
	}
	return c, 1
}

// gemv sets y (len a.Rows) to a·x + beta·y, where a is stored as t and ld
// say (layout) and x has increment incX.
func gemv[F float32 | float64](t blas.Transpose, a quant.View[F], ld int, x []F, incX int, beta F, y []F) {
	r, c := a.Rows, a.Cols
	if t == blas.Trans {
		r, c = c, r // BLAS is given the storage, c×r, and told to transpose it
	}
	switch yy := any(y).(type) {
	case []float32:
		gonum.Implementation{}.Sgemv(t, r, c, 1, any(a.Data).([]float32), ld, any(x).([]float32), incX, float32(beta), yy, 1)
	case []float64:
		gonum.Implementation{}.Dgemv(t, r, c, 1, any(a.Data).([]float64), ld, any(x).([]float64), incX, float64(beta), yy, 1)
	}
}

func dot[F float32 | float64](n int, x []F, incX int, y []F, incY int) F {
	switch xx := any(x).(type) {
	case []float32:
		return F(gonum.Implementation{}.Sdot(n, xx, incX, any(y).([]float32), incY))
	case []float64:
		return F(gonum.Implementation{}.Ddot(n, xx, incX, any(y).([]float64), incY))
	}
	return 0
}

// checkFinite reports the first NaN or ±Inf in a float product: the mark of
// a NaN or Inf operand (or of an overflow), which the int7 path rejects
// before multiplying. Scanning the m×n result instead of the operands keeps
// the check off the cost of a matrix × vector product.
func checkFinite[F float32 | float64](c []F, cols int) error {
	if quant.Finite(c) {
		return nil
	}
	for i, v := range c {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("product entry [%d][%d] is %v: an operand holds NaN or ±Inf, or the product overflows", i/cols, i%cols, f)
		}
	}
	return nil
}
