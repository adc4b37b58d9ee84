package quant

import "math"

// quantPart is Rows on one goroutine: the reference loops, kept as the
// oracle that quantPartFast must match bit for bit (quantfast_test.go).
func quantPart[F float32 | float64](v View[F], out []int8, scale []float64, rnd *Noise) error {
	rows, cols := v.Rows, v.Cols
	maxes := scale[:rows]
	clear(maxes)
	// First pass: the row maxima, in memory order so that a column-major
	// window streams through the cache instead of striding across it.
	// NaN is caught on the way, ±Inf by the maxima it leaves.
	bad := false
	if v.ColStride == 1 || v.RowStride > v.ColStride {
		for i := 0; i < rows; i++ {
			row := v.Data[i*v.RowStride:]
			m := 0.0
			for j := 0; j < cols; j++ {
				// Branch-free abs: the sign of data is a coin toss, and a
				// mispredicted branch per element costs more than the rest.
				x := math.Abs(float64(row[j*v.ColStride]))
				if x > m {
					m = x
				}
				if x != x {
					bad = true
				}
			}
			maxes[i] = m
		}
	} else {
		for j := 0; j < cols; j++ {
			col := v.Data[j*v.ColStride:]
			for i := 0; i < rows; i++ {
				x := math.Abs(float64(col[i*v.RowStride]))
				if x > maxes[i] {
					maxes[i] = x
				}
				if x != x {
					bad = true
				}
			}
		}
	}
	for _, m := range maxes {
		bad = bad || math.IsInf(m, 0)
	}
	if bad {
		return firstBad(v)
	}
	// Second pass: the quotients, a row at a time when rows are contiguous,
	// else blocked over 64 rows so that the reads follow memory and the int8
	// writes stay within 64 cache lines.
	if v.ColStride == 1 || v.RowStride > v.ColStride {
		for i := 0; i < rows; i++ {
			inv, div := factor(maxes[i])
			o := out[i*cols : (i+1)*cols]
			if rnd == nil && div == 0 && v.ColStride == 1 {
				// The common case, kept small enough to inline: ≈1 ns an element.
				row := v.Data[i*v.RowStride : i*v.RowStride+cols]
				for j, x := range row {
					o[j] = nearest(float64(x), inv)
				}
				continue
			}
			base := i * v.RowStride
			for j := range o {
				o[j] = quantOne(float64(v.Data[base+j*v.ColStride]), inv, div, i*cols+j, rnd)
			}
		}
	} else {
		const block = 64
		var invs, divs [block]float64
		for i0 := 0; i0 < rows; i0 += block {
			i1 := min(i0+block, rows)
			for i := i0; i < i1; i++ {
				invs[i-i0], divs[i-i0] = factor(maxes[i])
			}
			fast := rnd == nil && v.RowStride == 1
			for i := i0; i < i1 && fast; i++ {
				fast = divs[i-i0] == 0
			}
			for j := 0; j < cols; j++ {
				if fast {
					col := v.Data[j*v.ColStride+i0 : j*v.ColStride+i1]
					for i, x := range col {
						out[(i0+i)*cols+j] = nearest(float64(x), invs[i])
					}
					continue
				}
				col := v.Data[j*v.ColStride:]
				for i := i0; i < i1; i++ {
					out[i*cols+j] = quantOne(float64(col[i*v.RowStride]), invs[i-i0], divs[i-i0], i*cols+j, rnd)
				}
			}
		}
	}
	for i, m := range maxes {
		// Exact: a division by a power of two (a subnormal maximum may lose
		// low bits, far below any quantisation step).
		scale[i] = m / qmax
	}
	return nil
}

// factor returns the multiplier 64/m of a row, or (0, m) when 64/m would
// overflow and the row must divide by m instead; (0, 0) for a zero row.
func factor(m float64) (inv, div float64) {
	if m == 0 {
		return 0, 0
	}
	inv = float64(qmax / m)
	if math.IsInf(inv, 0) {
		return 0, m
	}
	return inv, 0
}

// nearest is quantOne for the common case: a multiplier, round to nearest.
// A zero row has inv = 0 and gives 0.
func nearest(x, inv float64) int8 {
	q := math.RoundToEven(float64(x * inv))
	return int8(max(-qmax, min(qmax, q)))
}

// quantOne maps x to its int7 step given its row's factor.
func quantOne(x, inv, div float64, idx int, rnd *Noise) int8 {
	var t float64
	if div != 0 {
		t = float64(float64(x/div) * qmax)
	} else {
		t = float64(x * inv) // rounded before any addition: no FMA
	}
	var q float64
	if rnd == nil {
		q = math.RoundToEven(t)
	} else {
		q = math.Floor(float64(t + rnd.uniform(idx)))
	}
	// x·(64/m) may exceed 64 by an ulp (nearest rounding brings it back),
	// and t = 64 plus a uniform just below 1 rounds up to 65.
	if q > qmax {
		q = qmax
	} else if q < -qmax {
		q = -qmax
	}
	return int8(q)
}
