package pouw

import (
	"math/bits"
	"sync/atomic"
	"unsafe"

	"github.com/usefulwork/minedmatmul/internal/parallel"
	"github.com/usefulwork/minedmatmul/pouw/internal/vec8"
)

// Matrix is a dense row-major int8 matrix whose entries, for mining, lie in
// [−64, 64] (int7, §1).
type Matrix struct {
	Rows, Cols int
	Data       []int8
}

// Transpose returns the transposed copy of x.
func (x Matrix) Transpose() Matrix {
	t := Matrix{Rows: x.Cols, Cols: x.Rows, Data: make([]int8, len(x.Data))}
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < x.Cols; j++ {
			t.Data[j*x.Rows+i] = x.Data[i*x.Cols+j]
		}
	}
	return t
}

// checkOperands checks the operands of a product A·B given as a (m×k) and
// bt = Bᵀ (n×k): shapes that match their data, equal inner dimensions, and
// every entry in [−64, 64]. It is the one check of caller input; everything
// after it may index freely.
func checkOperands(a, bt Matrix) error {
	if !a.shapeOK() || !bt.shapeOK() {
		return ruleErr(ErrShape, "matrix data does not match its shape: A is %dx%d with %d entries, Bᵀ is %dx%d with %d",
			a.Rows, a.Cols, len(a.Data), bt.Rows, bt.Cols, len(bt.Data))
	}
	if a.Cols != bt.Cols {
		return ruleErr(ErrInnerDim, "inner dimensions differ: A is %dx%d, Bᵀ is %dx%d", a.Rows, a.Cols, bt.Rows, bt.Cols)
	}
	if err := a.checkInt7("A"); err != nil {
		return err
	}
	return bt.checkInt7("Bᵀ")
}

// checkInt7 returns ErrValueOutOfRange naming the first entry outside
// [−64, 64]. A large matrix is checked in pieces on all cores (the check
// runs at memory speed, and a product's helpers are usually awake from its
// operands' quantising); the first bad entry is the lowest found.
func (x Matrix) checkInt7(name string) error {
	var first atomic.Int64
	first.Store(-1)
	parallel.Range(len(x.Data), 1<<16, func(lo, hi int) {
		if i := vec8.FirstOutside(x.Data[lo:hi], -64, 64); i >= 0 {
			for at := int64(lo + i); ; {
				f := first.Load()
				if f >= 0 && f <= at || first.CompareAndSwap(f, at) {
					break
				}
			}
		}
	})
	if idx := int(first.Load()); idx >= 0 {
		return ruleErr(ErrValueOutOfRange, "%s[%d][%d] = %d is outside [-64, 64]", name, idx/x.Cols, idx%x.Cols, x.Data[idx])
	}
	return nil
}

// shapeOK reports whether x's shape is non-negative and matches its data,
// without trusting Rows·Cols not to overflow.
func (x Matrix) shapeOK() bool {
	if x.Rows < 0 || x.Cols < 0 {
		return false
	}
	hi, lo := bits.Mul64(uint64(x.Rows), uint64(x.Cols))
	return hi == 0 && lo == uint64(len(x.Data))
}

// columns copies columns [lo, hi) of x.
func (x Matrix) columns(lo, hi int) Matrix {
	out := Matrix{Rows: x.Rows, Cols: hi - lo, Data: make([]int8, x.Rows*(hi-lo))}
	for i := 0; i < x.Rows; i++ {
		copy(out.Data[i*out.Cols:(i+1)*out.Cols], x.Data[i*x.Cols+lo:i*x.Cols+hi])
	}
	return out
}

// int8Bytes views int8 data as the two's-complement bytes that are hashed.
func int8Bytes(x []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}
