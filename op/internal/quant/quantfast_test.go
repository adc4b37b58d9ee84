package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// layout is how a test window lies in memory.
type layout int

const (
	rowMajor  layout = iota // cs = 1, rows padded
	colMajor                // rs = 1, columns padded (a transposed view)
	strided2                // neither stride 1
	broadcast               // rs = 0: every row the same memory
)

func (l layout) String() string {
	return [...]string{"rowmajor", "colmajor", "strided", "broadcast"}[l]
}

// window builds a rows×cols window of layout l over fresh data filled by fill
// (called with the window coordinates of each element it sets).
func window[F float32 | float64](l layout, rows, cols, pad int, fill func(i, j int) float64) View[F] {
	v := View[F]{Rows: rows, Cols: cols}
	var n int
	switch l {
	case rowMajor:
		v.RowStride, v.ColStride = cols+pad, 1
		n = (rows-1)*v.RowStride + cols
	case colMajor:
		v.RowStride, v.ColStride = 1, rows+pad
		n = rows + (cols-1)*v.ColStride
	case strided2:
		v.RowStride, v.ColStride = 2*cols+pad, 2
		n = (rows-1)*v.RowStride + 2*(cols-1) + 1
	case broadcast:
		v.RowStride, v.ColStride = 0, 1
		n = cols
	}
	v.Data = make([]F, n)
	for i := range v.Data {
		v.Data[i] = F(math.NaN()) // padding must never be read
	}
	for i := range rows {
		for j := range cols {
			v.Data[i*v.RowStride+j*v.ColStride] = F(fill(i, j))
		}
	}
	return v
}

// compareQuant checks that the fast quantiser with the kernels selected now
// (impltest.Run switches them) gives the reference's int8s, scales and
// error for v.
func compareQuant[F float32 | float64](t *testing.T, v View[F], rnd *Noise) {
	t.Helper()
	quant := func() ([]int8, []float64, error) {
		out := make([]int8, v.Rows*v.Cols)
		scale := make([]float64, v.Rows)
		var r *Noise
		if rnd != nil {
			r = &Noise{Key: rnd.Key, Base: rnd.Base}
		}
		err := Rows(v, out, scale, r)
		return out, scale, err
	}
	wantQ, wantS, wantErr := withQuant(implRef, quant)
	q, s, err := withQuant(implFast, quant)
	name := kern().name
	if wantErr != nil {
		require.EqualError(t, err, wantErr.Error(), name)
		return
	}
	require.NoError(t, err, name)
	for i := range q {
		if q[i] != wantQ[i] {
			t.Fatalf("%s: element %d (%d, %d) is %d, want %d", name, i, i/v.Cols, i%v.Cols, q[i], wantQ[i])
		}
	}
	for i := range s {
		require.Equal(t, math.Float64bits(wantS[i]), math.Float64bits(s[i]), "%s: scale %d", name, i)
	}
}

// withQuant runs f with quantUse set to u, and restores it.
func withQuant[T1, T2, T3 any](u quantImpl, f func() (T1, T2, T3)) (T1, T2, T3) {
	old := quantUse
	defer func() { quantUse = old }()
	quantUse = u
	return f()
}

// TestQuantFastMatchesReference pins the fast quantiser (under every
// implementation: impltest.Run) to the reference bit for bit: odd shapes
// crossing the 16-lane groups and the 64×64 tiles, every layout, both
// dtypes and both roundings, with zero rows, ties at .5, subnormals and
// overflowing 64/max.
func TestQuantFastMatchesReference(t *testing.T) {
	impltest.Run(t, testQuantFastMatchesReference, "quant")
}

func testQuantFastMatchesReference(t *testing.T) {
	// {40, 9} to {5, 32} straddle shortRow, where row-major rows switch
	// from the scalar loops to the vector kernels.
	shapes := [][2]int{{1, 1}, {1, 17}, {3, 5}, {40, 9}, {5, 31}, {5, 32}, {16, 16}, {17, 33}, {63, 65}, {64, 64}, {65, 130}, {129, 47}, {200, 300}, {7, 1000}}
	if testing.Short() {
		shapes = shapes[:11]
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sh := range shapes {
		rows, cols := sh[0], sh[1]
		for _, l := range []layout{rowMajor, colMajor, strided2, broadcast} {
			for _, kind := range []string{"normal", "ties", "tiny", "mixed"} {
				compareEveryWay(t, rng, l, rows, cols, fillKind(kind, rng), fmt.Sprintf("%dx%d/%v/%s", rows, cols, l, kind))
			}
		}
	}
}

// compareEveryWay runs compareQuant on windows of layout l filled by fill,
// in both dtypes and with both roundings (a fresh stream for stochastic).
func compareEveryWay(t *testing.T, rng *rand.Rand, l layout, rows, cols int, fill func(i, j int) float64, name string) {
	for _, round := range []string{"nearest", "stochastic"} {
		var rnd *Noise
		if round == "stochastic" {
			rnd = &Noise{Key: rng.Uint64(), Base: rng.IntN(1000)}
		}
		t.Run(name+"/"+round+"/f32", func(t *testing.T) {
			compareQuant(t, window[float32](l, rows, cols, 3, fill), rnd)
		})
		t.Run(name+"/"+round+"/f64", func(t *testing.T) {
			compareQuant(t, window[float64](l, rows, cols, 3, fill), rnd)
		})
	}
}

// fillKind returns a window filler of one kind: "normal" values; "ties",
// which land on k+0.5 exactly; "tiny", subnormal maxima (64/max overflows:
// the dividing path) and subnormal float32 values; "mixed", with all-zero
// rows, negative zeros and magnitudes across 2⁻²⁰..2²⁰.
func fillKind(kind string, rng *rand.Rand) func(i, j int) float64 {
	return func(i, j int) float64 {
		switch kind {
		case "ties":
			// Max 64 (or 32): x·(64/max) lands on k+0.5 exactly.
			if j == 0 {
				return 64 / float64(1+i%2)
			}
			return (float64(rng.IntN(129)-64) + 0.5) / float64(1+i%2)
		case "tiny":
			if i%2 == 0 {
				return float64(rng.IntN(2001)-1000) * 0x1p-1070
			}
			return float64(rng.IntN(2001)-1000) * 0x1p-149
		case "mixed":
			switch i % 4 {
			case 0:
				return 0 // an all-zero row
			case 1:
				return math.Copysign(0, -1) * float64(j%2)
			}
			return rng.NormFloat64() * math.Pow(2, float64(rng.IntN(40)-20))
		}
		return rng.NormFloat64()
	}
}

// TestColsByBandsMatchesReference pins the column-band quantiser (windows
// of few contiguous rows and many columns, cut between columns) to the
// reference on every implementation, with more workers than this machine
// may have so that the bands are cut the way a larger one cuts them:
// ragged last bands, both roundings, and a bad value in a late band.
func TestColsByBandsMatchesReference(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	impltest.Run(t, testColsByBandsMatchesReference, "quant")
}

func testColsByBandsMatchesReference(t *testing.T) {
	shapes := [][2]int{{1, 70001}, {9, 9001}, {16, 5000}, {33, 2500}, {64, 1100}, {129, 600}}
	if testing.Short() {
		shapes = shapes[1:3]
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, sh := range shapes {
		rows, cols := sh[0], sh[1]
		for _, kind := range []string{"normal", "ties", "tiny", "mixed"} {
			compareEveryWay(t, rng, colMajor, rows, cols, fillKind(kind, rng), fmt.Sprintf("%dx%d/%s", rows, cols, kind))
		}
		bi, bj := rng.IntN(rows), cols-1-rng.IntN(cols/4)
		t.Run(fmt.Sprintf("%dx%d/nan", rows, cols), func(t *testing.T) {
			v := window[float32](colMajor, rows, cols, 1, func(i, j int) float64 {
				if i == bi && j == bj {
					return math.NaN()
				}
				return rng.NormFloat64()
			})
			compareQuant(t, v, nil)
			err := Rows(v, make([]int8, rows*cols), make([]float64, rows), nil)
			require.EqualError(t, err, (&BadValueError{Row: bi, Col: bj, Value: math.NaN()}).Error())
		})
	}
}

// TestQuantFastNonFinite checks that NaN and ±Inf anywhere are reported
// like the reference reports them (the first one, with its coordinates).
func TestQuantFastNonFinite(t *testing.T) {
	impltest.Run(t, testQuantFastNonFinite, "quant")
}

func testQuantFastNonFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, l := range []layout{rowMajor, colMajor} {
			for _, sh := range [][2]int{{1, 1}, {5, 37}, {70, 90}} {
				rows, cols := sh[0], sh[1]
				for trial := range 4 {
					bi, bj := rng.IntN(rows), rng.IntN(cols)
					fill := func(i, j int) float64 {
						if i == bi && j == bj {
							return bad
						}
						return rng.NormFloat64()
					}
					name := fmt.Sprintf("%v/%v/%dx%d/%d", bad, l, rows, cols, trial)
					t.Run(name, func(t *testing.T) {
						v32 := window[float32](l, rows, cols, 1, fill)
						compareQuant(t, v32, nil)
						compareQuant(t, window[float64](l, rows, cols, 1, fill), nil)
						err := Rows(v32, make([]int8, rows*cols), make([]float64, rows), nil)
						require.EqualError(t, err, (&BadValueError{Row: bi, Col: bj, Value: bad}).Error())
						var be *BadValueError
						require.ErrorAs(t, err, &be)
					})
				}
			}
		}
	}
}

// TestTransposeTile checks the byte transpose on every ragged size, and
// each implementation's whole-tile transpose.
func TestTransposeTile(t *testing.T) {
	var buf [tile * tile]int8
	for i := range buf {
		buf[i] = int8(i*7 + i/64)
	}
	impltest.Run(t, func(t *testing.T) {
		k := kern()
		if k.tile64 == nil {
			t.Skipf("%s kernels have no whole-tile transpose", k.name)
		}
		for _, os := range []int{64, 100, 784} {
			out := make([]int8, 63*os+64)
			k.tile64(out, os, &buf)
			for l := range tile {
				for j := range tile {
					require.Equal(t, buf[j*tile+l], out[l*os+j], "%s: os %d (%d,%d)", k.name, os, l, j)
				}
			}
		}
		if k.tilePart == nil {
			return
		}
		for jw := 1; jw <= tile; jw++ {
			for _, iw := range []int{1, 16, 31, 32, 33, 40, 63, 64} {
				os := jw + 5
				out := make([]int8, (iw-1)*os+jw)
				k.tilePart(out, os, &buf, jw, iw)
				for l := range iw {
					for j := range jw {
						require.Equal(t, buf[j*tile+l], out[l*os+j], "%s: jw %d iw %d (%d,%d)", k.name, jw, iw, l, j)
					}
				}
			}
		}
	}, "quant")
	for jw := 1; jw <= tile; jw++ {
		for _, iw := range []int{1, 7, 8, 9, 16, 63, 64} {
			os := jw + 5
			out := make([]int8, (iw-1)*os+jw)
			transposeTile(out, os, &buf, jw, iw)
			for l := range iw {
				for j := range jw {
					require.Equal(t, buf[j*tile+l], out[l*os+j], "jw %d iw %d (%d,%d)", jw, iw, l, j)
				}
			}
		}
	}
}

// TestDequantMatchesReference pins the dequantiser (under every
// implementation) to dequantRef, setting and incrementing, on ragged widths
// and extreme scales.
func TestDequantMatchesReference(t *testing.T) {
	impltest.Run(t, testDequantMatchesReference, "quant")
}

func testDequantMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, sh := range [][2]int{{1, 1}, {3, 7}, {5, 8}, {9, 17}, {64, 130}, {300, 250}} {
		m, n := sh[0], sh[1]
		c := make([]int32, m*n)
		for i := range c {
			c[i] = int32(rng.IntN(1<<24) - 1<<23)
		}
		sa, sb := make([]float64, m), make([]float64, n)
		for i := range sa {
			sa[i] = rng.ExpFloat64() * math.Pow(2, float64(rng.IntN(200)-100))
		}
		for j := range sb {
			sb[j] = rng.ExpFloat64() * math.Pow(2, float64(rng.IntN(200)-100))
		}
		sb[0] = 0x1p-1070 // subnormal
		for _, incr := range []bool{false, true} {
			y0 := make([]float32, m*n)
			z0 := make([]float64, m*n)
			for i := range y0 {
				y0[i] = float32(rng.NormFloat64())
				z0[i] = rng.NormFloat64()
			}
			want32, want64 := append([]float32(nil), y0...), append([]float64(nil), z0...)
			dequantRef(want32, c, sa, sb, incr)
			dequantRef(want64, c, sa, sb, incr)
			got32, got64 := append([]float32(nil), y0...), append([]float64(nil), z0...)
			Dequant(got32, c, sa, sb, incr)
			Dequant(got64, c, sa, sb, incr)
			name := kern().name
			for i := range got32 {
				require.Equal(t, math.Float32bits(want32[i]), math.Float32bits(got32[i]), "%s %dx%d incr %v f32 %d", name, m, n, incr, i)
				require.Equal(t, math.Float64bits(want64[i]), math.Float64bits(got64[i]), "%s %dx%d incr %v f64 %d", name, m, n, incr, i)
			}
		}
	}
}

// TestFinite puts one NaN, +Inf or −Inf at every position of slices whose
// lengths straddle the 16-lane groups, under every implementation.
func TestFinite(t *testing.T) {
	impltest.Run(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 15, 16, 17, 40, 64} {
			xs32, xs64 := make([]float32, n), make([]float64, n)
			for i := range n {
				xs32[i], xs64[i] = float32(i)-7.5, math.MaxFloat64/float64(i+1)
			}
			if !Finite(xs32) || !Finite(xs64) {
				t.Fatalf("n %d: finite entries reported non-finite", n)
			}
			for at := range n {
				for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
					keep32, keep64 := xs32[at], xs64[at]
					xs32[at], xs64[at] = float32(bad), bad
					if Finite(xs32) || Finite(xs64) {
						t.Fatalf("n %d: %v at %d not seen", n, bad, at)
					}
					xs32[at], xs64[at] = keep32, keep64
				}
			}
		}
	}, "quant")
}
