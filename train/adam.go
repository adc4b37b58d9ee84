package train

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Adam is Gorgonia's Adam optimiser (gorgonia.NewAdamSolver with a learning
// rate and a batch size, its other settings at their defaults) for models
// whose learnables are dense float32 or float64 tensors. It does the same
// arithmetic on every element, in the same order and precision, so the
// weights it leaves are bit for bit those of gorgonia.AdamSolver; but in one
// pass over each tensor, on all cores, where AdamSolver runs a dozen
// whole-tensor operations and clones four tensors a step (in an MNIST
// training run, 40 % of all the time).
//
// The equality assumes that neither side fuses a multiply and an add into
// one rounding, as Go on amd64 never does at the default GOAMD64 level.
type Adam struct {
	eta, beta1, beta2, eps, batch float64
	iter                          int
	moments                       []moments // per learnable, made at its first step
}

// moments holds a learnable's running means and variances of gradients:
// []float32 or []float64 as its dtype.
type moments struct{ m, v any }

// NewAdam returns an Adam optimiser with learning rate eta, averaging
// gradients over batch examples (gorgonia.WithLearnRate, WithBatchSize).
func NewAdam(eta float64, batch int) *Adam {
	return &Adam{eta: eta, beta1: 0.9, beta2: 0.999, eps: 1e-8, batch: float64(batch)}
}

// Step implements gorgonia.Solver: it updates every learnable from its
// gradient and zeroes the gradient.
func (a *Adam) Step(model []gorgonia.ValueGrad) error {
	if a.moments == nil {
		a.moments = make([]moments, len(model))
	}
	if len(model) != len(a.moments) {
		return fmt.Errorf("train: Adam stepped with %d learnables, first with %d", len(model), len(a.moments))
	}
	a.iter++
	c1 := 1 - math.Pow(a.beta1, float64(a.iter))
	c2 := 1 - math.Pow(a.beta2, float64(a.iter))
	for i, n := range model {
		w, ok := n.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("train: Adam needs dense learnables; %v holds a %T", n, n.Value())
		}
		gv, err := n.Grad()
		if err != nil {
			return fmt.Errorf("train: Adam: gradient of %v: %w", n, err)
		}
		g, ok := gv.(*tensor.Dense)
		if !ok || g.Dtype() != w.Dtype() || g.Size() != w.Size() {
			return fmt.Errorf("train: Adam: %v has a gradient that does not match its value", n)
		}
		switch ws := w.Data().(type) {
		case []float32:
			mo := &a.moments[i]
			if mo.m == nil {
				mo.m, mo.v = make([]float32, len(ws)), make([]float32, len(ws))
			}
			m, mok := mo.m.([]float32)
			v, vok := mo.v.([]float32)
			if !mok || !vok || len(m) != len(ws) {
				return fmt.Errorf("train: Adam: %v changed shape or dtype between steps", n)
			}
			p := adamParams32{
				onePerBatch: 1 / float32(a.batch), batched: a.batch > 1,
				beta1: float32(a.beta1), beta2: float32(a.beta2),
				omb1: 1 - float32(a.beta1), omb2: 1 - float32(a.beta2),
				cv1: 1 / float32(c1), cv2: 1 / float32(c2),
				eps: float32(a.eps), negEta: -float32(a.eta),
			}
			inParts(len(ws), func(lo, hi int) { adam32(ws[lo:hi], g.Data().([]float32)[lo:hi], m[lo:hi], v[lo:hi], &p) })
		case []float64:
			mo := &a.moments[i]
			if mo.m == nil {
				mo.m, mo.v = make([]float64, len(ws)), make([]float64, len(ws))
			}
			m, mok := mo.m.([]float64)
			v, vok := mo.v.([]float64)
			if !mok || !vok || len(m) != len(ws) {
				return fmt.Errorf("train: Adam: %v changed shape or dtype between steps", n)
			}
			p := adamParams64{
				onePerBatch: 1 / a.batch, batched: a.batch > 1,
				beta1: a.beta1, beta2: a.beta2, omb1: 1 - a.beta1, omb2: 1 - a.beta2,
				cv1: 1 / c1, cv2: 1 / c2, eps: a.eps, negEta: -a.eta,
			}
			inParts(len(ws), func(lo, hi int) { adam64(ws[lo:hi], g.Data().([]float64)[lo:hi], m[lo:hi], v[lo:hi], &p) })
		default:
			return fmt.Errorf("train: Adam: %v is %v, not float32 or float64", n, w.Dtype())
		}
	}
	return nil
}

// inParts runs fn over [0, n) cut into one range per core when n is large,
// the calling goroutine taking the last.
func inParts(n int, fn func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), n/(1<<14))
	if parts <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := 0; p < parts-1; p++ {
		wg.Go(func() { fn(p*n/parts, (p+1)*n/parts) })
	}
	fn((parts-1)*n/parts, n)
	wg.Wait()
}

type adamParams32 struct {
	onePerBatch, beta1, beta2, omb1, omb2, cv1, cv2, eps, negEta float32
	batched                                                      bool
}

// adam32 is AdamSolver.Step on float32 elements, operation for operation:
// g /= batch; m' = g·(1−β₁) + m·β₁; v' = (g·g)·(1−β₂) + v·β₂;
// w += (m'·c₁)·(−η) / (√(v'·c₂) + ε); g = 0. The conversions round every
// product on its own, as AdamSolver's separate tensor operations do.
func adam32(w, g, m, v []float32, p *adamParams32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		if p.batched {
			gi = gi * p.onePerBatch
		}
		t1 := float32(gi * p.omb1)
		g2 := float32(float32(gi*gi) * p.omb2)
		t1 = t1 + float32(m[i]*p.beta1)
		g2 = g2 + float32(v[i]*p.beta2)
		m[i], v[i] = t1, g2
		mHat := float32(t1 * p.cv1)
		vHat := float32(g2 * p.cv2)
		// The float64 square root rounded to float32 is the correctly
		// rounded float32 square root, as Gorgonia's math32.Sqrt.
		vHat = float32(math.Sqrt(float64(vHat))) + p.eps
		mHat = float32(mHat * p.negEta)
		w[i] = w[i] + mHat/vHat
		g[i] = 0
	}
}

type adamParams64 struct {
	onePerBatch, beta1, beta2, omb1, omb2, cv1, cv2, eps, negEta float64
	batched                                                      bool
}

// adam64 is adam32 on float64 elements.
func adam64(w, g, m, v []float64, p *adamParams64) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		if p.batched {
			gi = gi * p.onePerBatch
		}
		t1 := float64(gi * p.omb1)
		g2 := float64(float64(gi*gi) * p.omb2)
		t1 = t1 + float64(m[i]*p.beta1)
		g2 = g2 + float64(v[i]*p.beta2)
		m[i], v[i] = t1, g2
		mHat := float64(t1 * p.cv1)
		vHat := math.Sqrt(float64(g2*p.cv2)) + p.eps
		mHat = float64(mHat * p.negEta)
		w[i] = w[i] + mHat/vHat
		g[i] = 0
	}
}
