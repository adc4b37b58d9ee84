package op

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op/internal/quant"
	"github.com/usefulwork/minedmatmul/pouw"
)

// Int7 returns the int7 matrix a forward product hands the miner for the
// operand t: the rows of t (of tᵀ when transpose is set), each rounded to
// nearest on its own scale. For a product op(A)·op(B) the miner's operands
// are Int7(A, transA) and Int7(B, !transB), the latter Bᵀ; a vector is one
// row. Their commitment roots (pouw.CommitmentRoot) are what a training
// receipt records, so an auditor re-derives them from checkpointed weights
// with Int7.
func Int7(t *tensor.Dense, transpose bool) (pouw.Matrix, error) {
	if t == nil {
		return pouw.Matrix{}, fmt.Errorf("op: Int7: nil tensor")
	}
	switch t.Dtype() {
	case tensor.Float32:
		return int7[float32](t, transpose)
	case tensor.Float64:
		return int7[float64](t, transpose)
	}
	return pouw.Matrix{}, fmt.Errorf("op: Int7: dtype %v: only float32 and float64 are quantised", t.Dtype())
}

func int7[F float32 | float64](t *tensor.Dense, transpose bool) (pouw.Matrix, error) {
	s, st := t.Shape(), t.Strides()
	d, ok := t.Data().([]F)
	if !ok || len(st) != len(s) {
		return pouw.Matrix{}, fmt.Errorf("op: Int7: a %v tensor of shape %v", t.Dtype(), s)
	}
	var v quant.View[F]
	switch len(s) {
	case 1:
		v = quant.View[F]{Data: d, Rows: 1, Cols: s[0], ColStride: st[0]}
	case 2:
		v = quant.View[F]{Data: d, Rows: s[0], Cols: s[1], RowStride: st[0], ColStride: st[1]}
		if transpose {
			v.Rows, v.Cols, v.RowStride, v.ColStride = v.Cols, v.Rows, v.ColStride, v.RowStride
		}
	default:
		return pouw.Matrix{}, fmt.Errorf("op: Int7: shape %v is not a matrix or a vector", s)
	}
	if v.Rows <= 0 || v.Cols <= 0 {
		return pouw.Matrix{}, fmt.Errorf("op: Int7: empty shape %v", s)
	}
	q := make([]int8, v.Rows*v.Cols)
	if err := quant.Rows(v, q, make([]float64, v.Rows), nil); err != nil {
		return pouw.Matrix{}, fmt.Errorf("op: Int7: %w", err)
	}
	return pouw.Matrix{Rows: v.Rows, Cols: v.Cols, Data: q}, nil
}
