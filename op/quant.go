package op

import (
	"fmt"
	"math"
)

// Rounding is how a float is mapped to an int7 step.
type Rounding uint8

const (
	// Nearest rounds to the nearest step, ties to even: deterministic and
	// the smallest error per element, but biased for values far below the
	// row's largest magnitude (they all become 0).
	Nearest Rounding = iota
	// Stochastic rounds up with probability equal to the fractional part,
	// from a seeded counter-based generator: unbiased, so the many small
	// entries of a gradient survive on average, and reproducible because
	// the random stream depends only on the seed, the node and the call.
	Stochastic
)

// String names the rounding mode.
func (r Rounding) String() string {
	switch r {
	case Nearest:
		return "nearest"
	case Stochastic:
		return "stochastic"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// qmax is the largest int7 magnitude the protocol accepts (PROTOCOL.md §1).
const qmax = 64

// strided is a read-only 2-D window on a float slice: element (i, j) is
// data[i·rs + j·cs]. Row-major, column-major (thunked transposes), sliced
// views and broadcast vectors (a zero stride) are all strided windows, so one
// quantiser reads every layout Gorgonia hands to Do without materialising it.
type strided[F float32 | float64] struct {
	data       []F
	rows, cols int
	rs, cs     int
}

// check rejects windows that would index outside data: a malformed tensor is
// an error, never a panic inside the VM.
func (v strided[F]) check() error {
	if v.rows <= 0 || v.cols <= 0 {
		return fmt.Errorf("empty %d×%d operand", v.rows, v.cols)
	}
	if v.rs < 0 || v.cs < 0 {
		return fmt.Errorf("negative strides (%d, %d)", v.rs, v.cs)
	}
	last := (v.rows-1)*v.rs + (v.cols-1)*v.cs
	if last >= len(v.data) {
		return fmt.Errorf("%d×%d operand with strides (%d, %d) needs %d elements, has %d",
			v.rows, v.cols, v.rs, v.cs, last+1, len(v.data))
	}
	return nil
}

// noise is the stream of uniform numbers for stochastic rounding of one
// operand of one product: element idx draws mix(key + idx·γ), so any element
// can be rounded independently (and in parallel) with the same result.
type noise struct {
	key uint64
}

const golden = 0x9e3779b97f4a7c15

// mix64 is SplitMix64's finaliser: a bijection with full avalanche, enough
// for rounding decisions (not for cryptography).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns the element's number in [0, 1) with 53 random bits.
func (n noise) uniform(idx int) float64 {
	return float64(mix64(n.key+uint64(idx)*golden)>>11) * 0x1p-53
}

// badValueError reports the first NaN or ±Inf in an operand.
type badValueError struct {
	row, col int
	v        float64
}

func (e *badValueError) Error() string {
	return fmt.Sprintf("%v at (%d, %d)", e.v, e.row, e.col)
}

// quantRows quantises each row of v to int7 with one scale per row: out[i·cols+j]
// = round(v[i][j] / maxᵢ · 64), and scale[i] = maxᵢ / 64 so that
// v[i][j] ≈ scale[i]·out[i·cols+j]. A row of zeros gets scale 0 and zeros.
//
// The arithmetic is float64 for both dtypes (a float32 widens exactly), with
// every intermediate rounded by an explicit conversion: the compiler may
// fuse a·b+c into an FMA unless a conversion rounds a·b first (Go spec,
// "Floating-point operators"), so these bits are the same on every platform
// and GOAMD64 level. Dividing by the maximum (rather than multiplying by
// 64/max) keeps |v/max| ≤ 1 exactly, so no quotient can leave [-64, 64],
// and cannot overflow when the maximum is subnormal.
//
// With rnd == nil it rounds half to even; otherwise it rounds stochastically.
func quantRows[F float32 | float64](v strided[F], out []int8, scale []float64, rnd *noise) error {
	if err := v.check(); err != nil {
		return err
	}
	rows, cols := v.rows, v.cols
	maxes := scale[:rows]
	for i := range maxes {
		maxes[i] = 0
	}
	// First pass: the row maxima, in memory order so that a column-major
	// window streams through the cache instead of striding across it.
	bad := false
	if v.cs == 1 || v.rs > v.cs {
		for i := 0; i < rows; i++ {
			row := v.data[i*v.rs:]
			m := 0.0
			for j := 0; j < cols; j++ {
				x := float64(row[j*v.cs])
				if x-x != 0 { // NaN or ±Inf: x−x is NaN for both
					bad = true
				}
				m = math.Max(m, math.Abs(x))
			}
			maxes[i] = m
		}
	} else {
		for j := 0; j < cols; j++ {
			col := v.data[j*v.cs:]
			for i := 0; i < rows; i++ {
				x := float64(col[i*v.rs])
				if x-x != 0 {
					bad = true
				}
				maxes[i] = math.Max(maxes[i], math.Abs(x))
			}
		}
	}
	if bad {
		return firstBad(v)
	}
	// Second pass: the quotients, blocked over 64 rows so that the reads
	// follow memory whichever stride is the small one and the int8 writes
	// stay within 64 cache lines.
	const block = 64
	if v.cs == 1 || v.rs > v.cs {
		for i := 0; i < rows; i++ {
			quantRow(v, i, 0, cols, maxes[i], out[i*cols:(i+1)*cols], rnd)
		}
	} else {
		for i0 := 0; i0 < rows; i0 += block {
			i1 := min(i0+block, rows)
			for j := 0; j < cols; j++ {
				for i := i0; i < i1; i++ {
					out[i*cols+j] = quantOne(float64(v.data[i*v.rs+j*v.cs]), maxes[i], i*cols+j, rnd)
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

func quantRow[F float32 | float64](v strided[F], i, j0, j1 int, m float64, out []int8, rnd *noise) {
	base := i * v.rs
	for j := j0; j < j1; j++ {
		out[j-j0] = quantOne(float64(v.data[base+j*v.cs]), m, i*v.cols+j, rnd)
	}
}

// quantOne maps x to its int7 step given its row's maximum magnitude m.
func quantOne(x, m float64, idx int, rnd *noise) int8 {
	if m == 0 {
		return 0
	}
	// float64(...) rounds the product before any addition: no FMA.
	t := float64(float64(x/m) * qmax)
	var q float64
	if rnd == nil {
		q = math.RoundToEven(t)
	} else {
		q = math.Floor(float64(t + rnd.uniform(idx)))
		// t = 64 plus a uniform just below 1 rounds up to 65.
		q = math.Max(-qmax, math.Min(qmax, q))
	}
	return int8(q)
}

// firstBad locates the first non-finite element, row by row.
func firstBad[F float32 | float64](v strided[F]) error {
	for i := 0; i < v.rows; i++ {
		for j := 0; j < v.cols; j++ {
			x := float64(v.data[i*v.rs+j*v.cs])
			if x-x != 0 {
				return &badValueError{row: i, col: j, v: x}
			}
		}
	}
	return nil
}
