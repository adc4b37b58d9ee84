package op

import (
	"fmt"
	"math"
	"runtime"
	"sync"
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
	key  uint64
	base int // index of the window's first element in the whole operand
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
	return float64(mix64(n.key+uint64(n.base+idx)*golden)>>11) * 0x1p-53
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
// = round(v[i][j] · 64/maxᵢ), and scale[i] = maxᵢ/64 so that
// v[i][j] ≈ scale[i]·out[i·cols+j]. A row of zeros gets scale 0 and zeros.
//
// The arithmetic is float64 for both dtypes (a float32 widens exactly), with
// every intermediate rounded by an explicit conversion: the compiler may
// fuse a·b+c into an FMA unless a conversion rounds a·b first (Go spec,
// "Floating-point operators"), so these bits are the same on every platform
// and GOAMD64 level. A maximum so small (subnormal float64) that 64/max
// overflows divides instead.
//
// With rnd == nil it rounds half to even; otherwise it rounds stochastically.
func quantRows[F float32 | float64](v strided[F], out []int8, scale []float64, rnd *noise) error {
	if err := v.check(); err != nil {
		return err
	}
	// Rows are independent: split large operands across the cores. Each
	// element's result depends only on its row and index, so the split
	// does not change a bit.
	part := quantPartFast[F]
	if quantUse == implRef {
		part = quantPart[F]
	}
	parts := min(runtime.GOMAXPROCS(0), v.rows, v.rows*v.cols/parallelMin)
	if parts <= 1 {
		return part(v, out, scale, rnd)
	}
	var wg sync.WaitGroup
	errs := make([]error, parts)
	for p := range parts {
		i0, i1 := p*v.rows/parts, (p+1)*v.rows/parts
		sub := v
		sub.data = v.data[i0*v.rs:]
		sub.rows = i1 - i0
		var r *noise
		if rnd != nil {
			r = &noise{key: rnd.key, base: rnd.base + i0*v.cols}
		}
		wg.Go(func() {
			errs[p] = part(sub, out[i0*v.cols:i1*v.cols], scale[i0:i1], r)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			// Report coordinates in the whole operand rather than in
			// the part; keep the part's own error if there is no such value.
			if bad := firstBad(v); bad != nil {
				return bad
			}
			return err
		}
	}
	return nil
}

// parallelMin is the number of elements worth a goroutine.
const parallelMin = 1 << 15

// quantPart is quantRows on one goroutine: the reference loops, kept as the
// oracle that quantPartFast must match bit for bit (quant_test.go).
func quantPart[F float32 | float64](v strided[F], out []int8, scale []float64, rnd *noise) error {
	rows, cols := v.rows, v.cols
	maxes := scale[:rows]
	clear(maxes)
	// First pass: the row maxima, in memory order so that a column-major
	// window streams through the cache instead of striding across it.
	// NaN is caught on the way, ±Inf by the maxima it leaves.
	bad := false
	if v.cs == 1 || v.rs > v.cs {
		for i := 0; i < rows; i++ {
			row := v.data[i*v.rs:]
			m := 0.0
			for j := 0; j < cols; j++ {
				// Branch-free abs: the sign of data is a coin toss, and a
				// mispredicted branch per element costs more than the rest.
				x := math.Abs(float64(row[j*v.cs]))
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
			col := v.data[j*v.cs:]
			for i := 0; i < rows; i++ {
				x := math.Abs(float64(col[i*v.rs]))
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
	if v.cs == 1 || v.rs > v.cs {
		for i := 0; i < rows; i++ {
			inv, div := factor(maxes[i])
			o := out[i*cols : (i+1)*cols]
			if rnd == nil && div == 0 && v.cs == 1 {
				// The common case, kept small enough to inline: ≈1 ns an element.
				row := v.data[i*v.rs : i*v.rs+cols]
				for j, x := range row {
					o[j] = nearest(float64(x), inv)
				}
				continue
			}
			base := i * v.rs
			for j := range o {
				o[j] = quantOne(float64(v.data[base+j*v.cs]), inv, div, i*cols+j, rnd)
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
			fast := rnd == nil && v.rs == 1
			for i := i0; i < i1 && fast; i++ {
				fast = divs[i-i0] == 0
			}
			for j := 0; j < cols; j++ {
				if fast {
					col := v.data[j*v.cs+i0 : j*v.cs+i1]
					for i, x := range col {
						out[(i0+i)*cols+j] = nearest(float64(x), invs[i])
					}
					continue
				}
				col := v.data[j*v.cs:]
				for i := i0; i < i1; i++ {
					out[i*cols+j] = quantOne(float64(col[i*v.rs]), invs[i-i0], divs[i-i0], i*cols+j, rnd)
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
func quantOne(x, inv, div float64, idx int, rnd *noise) int8 {
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
