package train

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/internal/impl/impltest"
)

// learnable is a gorgonia.ValueGrad over two dense tensors.
type learnable struct{ w, g *tensor.Dense }

func (l learnable) Value() gorgonia.Value         { return l.w }
func (l learnable) Grad() (gorgonia.Value, error) { return l.g, nil }
func (l learnable) clone() learnable {
	return learnable{l.w.Clone().(*tensor.Dense), l.g.Clone().(*tensor.Dense)}
}
func (l learnable) setGrad(rng *rand.Rand, scale float64) { fill(l.g, rng, scale) }

func fill(t *tensor.Dense, rng *rand.Rand, scale float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(rng.NormFloat64() * scale)
		}
	case []float64:
		for i := range d {
			d[i] = rng.NormFloat64() * scale
		}
	}
}

// TestAdamMatchesGorgonia steps Adam and gorgonia's AdamSolver side by side
// on the same weights and gradients, float32 and float64, a small matrix and
// a vector long enough to be cut across cores, and requires the same bits.
func TestAdamMatchesGorgonia(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		// Elsewhere the compiler may fuse gorgonia's a·b+c into one rounding.
		t.Skip("bit equality with gorgonia holds where neither side fuses multiply-adds (amd64)")
	}
	impltest.Run(t, testAdamMatchesGorgonia, "train")
}

func testAdamMatchesGorgonia(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, batch := range []int{1, 100} {
			rng := rand.New(rand.NewPCG(1, uint64(batch)))
			var ours, theirs []gorgonia.ValueGrad
			var mine, ref []learnable
			for _, shape := range []tensor.Shape{{5, 7}, {3, 8}, {70001}} {
				l := learnable{tensor.New(tensor.WithShape(shape...), tensor.Of(dt)), tensor.New(tensor.WithShape(shape...), tensor.Of(dt))}
				fill(l.w, rng, 1)
				a, b := l.clone(), l.clone()
				mine, ref = append(mine, a), append(ref, b)
				ours, theirs = append(ours, a), append(theirs, b)
			}
			adam := NewAdam(0.001, batch)
			solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.001), gorgonia.WithBatchSize(float64(batch)))
			for step := 0; step < 6; step++ {
				for i := range mine {
					mine[i].setGrad(rng, math.Pow(10, float64(step%3-1)))
					require.NoError(t, tensor.Copy(ref[i].g, mine[i].g))
				}
				require.NoError(t, adam.Step(ours))
				require.NoError(t, solver.Step(theirs))
				for i := range mine {
					require.Equal(t, ref[i].w.Data(), mine[i].w.Data(), "%v batch %d step %d learnable %d", dt, batch, step, i)
					require.Equal(t, ref[i].g.Data(), mine[i].g.Data(), "gradients zeroed")
				}
			}
		}
	}
}

func TestAdamRejectsWhatItCannotStep(t *testing.T) {
	adam := NewAdam(0.01, 1)
	w := tensor.New(tensor.WithShape(3), tensor.Of(tensor.Float32))
	g := tensor.New(tensor.WithShape(4), tensor.Of(tensor.Float32))
	require.Error(t, adam.Step([]gorgonia.ValueGrad{learnable{w, g}}), "gradient of another size")
	ints := tensor.New(tensor.WithShape(3), tensor.Of(tensor.Int))
	require.Error(t, NewAdam(0.01, 1).Step([]gorgonia.ValueGrad{learnable{ints, ints.Clone().(*tensor.Dense)}}), "int learnable")
	ok := learnable{w, tensor.New(tensor.WithShape(3), tensor.Of(tensor.Float32))}
	require.NoError(t, adam.Step([]gorgonia.ValueGrad{ok}))
	require.Error(t, adam.Step([]gorgonia.ValueGrad{ok, ok}), "another number of learnables")
}

// BenchmarkAdam steps the learnables of an MNIST MLP (784×512, 512, 512×10,
// 10; float32) with this CPU's fastest implementation, and with gorgonia's
// AdamSolver beside it.
func BenchmarkAdam(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var model []gorgonia.ValueGrad
	size := 0
	for _, shape := range []tensor.Shape{{784, 512}, {512}, {512, 10}, {10}} {
		l := learnable{tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32)), tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))}
		fill(l.w, rng, 1)
		model = append(model, l)
		size += shape.TotalSize()
	}
	for _, s := range []struct {
		name   string
		solver gorgonia.Solver
	}{
		{"train", NewAdam(0.001, 100)},
		{"gorgonia", gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.001), gorgonia.WithBatchSize(100))},
	} {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(size) * 4 * 4) // w, g, m, v read; all but g's reads written too
			for b.Loop() {
				if err := s.solver.Step(model); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAdamSpecialValues steps the same learnable under every implementation
// with gradients and weights that include zeros of both signs, subnormals,
// ±Inf and NaN, and requires the same bits from each (NaN included).
func TestAdamSpecialValues(t *testing.T) {
	specials := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-40, 1e30, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3.5, -0.25}
	const n = 37 // four vectors and a tail
	var want [][]uint32
	impltest.Run(t, func(t *testing.T) {
		w := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
		g := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float32))
		ws, gs := w.Data().([]float32), g.Data().([]float32)
		model := []gorgonia.ValueGrad{learnable{w, g}}
		var got [][]uint32
		for _, batch := range []int{1, 100} {
			adam := NewAdam(0.001, batch)
			for step := range 3 {
				for i := range n {
					ws[i] = specials[(i+step)%len(specials)]
					gs[i] = specials[(3*i+1)%len(specials)]
				}
				require.NoError(t, adam.Step(model))
				bits := make([]uint32, n)
				for i, x := range ws {
					bits[i] = math.Float32bits(x)
				}
				got = append(got, bits)
			}
		}
		if want == nil {
			want = got
			return
		}
		require.Equal(t, want, got)
	}, "train")
}
