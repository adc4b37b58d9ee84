package op

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/pouw"
)

// proofLog collects the proofs a test miner finds.
type proofLog struct {
	mu     sync.Mutex
	proofs []pouw.Found
}

func (l *proofLog) add(f pouw.Found) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.proofs = append(l.proofs, f)
}

func (l *proofLog) all() []pouw.Found {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]pouw.Found(nil), l.proofs...)
}

// testMiner mines under the local profile at a difficulty that finds a
// proof about every macs multiply-accumulates.
func testMiner(t testing.TB, macs float64) (*pouw.Miner, *proofLog) {
	t.Helper()
	log := &proofLog{}
	m, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(pouw.Local.Nbits(macs, 32)),
		Profile: pouw.Local,
		OnProof: log.add,
	})
	require.NoError(t, err)
	return m, log
}

// randDense returns a row-major rows×cols tensor of normal numbers.
func randDense(rng *rand.Rand, dt tensor.Dtype, rows, cols int) *tensor.Dense {
	n := rows * cols
	if dt == tensor.Float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
		return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(d))
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(d))
}

// at reads element (i, j) of a 2-D tensor of either dtype, whatever its layout.
func at(t tensor.Tensor, i, j int) float64 {
	v, err := t.At(i, j)
	if err != nil {
		panic(err)
	}
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	panic("dtype")
}

// toF64 copies a float tensor's values in logical row-major order.
func toF64(t tensor.Tensor) []float64 {
	s := t.Shape()
	switch len(s) {
	case 0:
		return []float64{scalarOf(t)}
	case 1:
		out := make([]float64, s[0])
		for i := range out {
			v, err := t.At(i)
			if err != nil {
				panic(err)
			}
			out[i] = asF64(v)
		}
		return out
	}
	out := make([]float64, 0, s.TotalSize())
	for i := 0; i < s[0]; i++ {
		for j := 0; j < s[1]; j++ {
			out = append(out, at(t, i, j))
		}
	}
	return out
}

func scalarOf(t tensor.Tensor) float64 { return asF64(t.Data()) }

func asF64(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	panic("dtype")
}
