package quant

import "github.com/usefulwork/minedmatmul/internal/parallel"

// Dequant sets (or, with incr, adds to) y[i][j] = sa[i]·c[i][j]·sb[j], for
// the m×n row-major y and c, m = len(sa) and n = len(sb): the float product
// of two operands quantised by Rows, from their exact int32 product c and
// their scales. The scale product is exact in float64 for float32 inputs,
// and the explicit conversions round each step so no FMA can change a bit.
// The assembly kernels (kern().deq32, kern().deq64) do the same operations
// in the same order (dequantRef is the oracle in the tests).
func Dequant[F float32 | float64](y []F, c []int32, sa, sb []float64, incr bool) {
	if quantUse == implRef {
		dequantRef(y, c, sa, sb, incr)
		return
	}
	// Rows are independent: a large output is split across the cores; no
	// bit depends on the cut.
	n := len(sb)
	parallel.Range(len(sa), max(1, parallelMin/max(n, 1)), func(lo, hi int) {
		dequantRows(y[lo*n:hi*n], c[lo*n:hi*n], sa[lo:hi], sb, incr)
	})
}

// dequantRows is Dequant on one goroutine.
func dequantRows[F float32 | float64](y []F, c []int32, sa, sb []float64, incr bool) {
	k := kern()
	n := len(sb)
	for i, s := range sa {
		row, crow := y[i*n:(i+1)*n], c[i*n:(i+1)*n]
		done := 0
		switch r := any(row).(type) {
		case []float32:
			if k.deq32 != nil {
				done = k.deq32(r, crow, sb, s, incr)
			}
		case []float64:
			if k.deq64 != nil {
				done = k.deq64(r, crow, sb, s, incr)
			}
		}
		dequantRow(row[done:], crow[done:], sb[done:], s, incr)
	}
}

// dequantRow is one row of dequantRef, the loop split on incr.
func dequantRow[F float32 | float64](row []F, crow []int32, sb []float64, s float64, incr bool) {
	crow, sb = crow[:len(row)], sb[:len(row)]
	if incr {
		for j, cij := range crow {
			row[j] += F(float64(float64(cij) * float64(s*sb[j])))
		}
		return
	}
	for j, cij := range crow {
		row[j] = F(float64(float64(cij) * float64(s*sb[j])))
	}
}

// dequantRef is the reference dequantiser.
func dequantRef[F float32 | float64](y []F, c []int32, sa, sb []float64, incr bool) {
	n := len(sb)
	for i, s := range sa {
		row, crow := y[i*n:(i+1)*n], c[i*n:(i+1)*n]
		for j, cij := range crow {
			v := F(float64(float64(cij) * float64(s*sb[j])))
			if incr {
				row[j] += v
			} else {
				row[j] = v
			}
		}
	}
}
