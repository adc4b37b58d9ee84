package train

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/internal/parallel"
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
			err = stepLearnable(n, ws, g.Data().([]float32), &a.moments[i], newParams[float32](a, c1, c2))
		case []float64:
			err = stepLearnable(n, ws, g.Data().([]float64), &a.moments[i], newParams[float64](a, c1, c2))
		default:
			err = fmt.Errorf("train: Adam: %v is %v, not float32 or float64", n, w.Dtype())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// newParams computes a step's constants in precision F, as AdamSolver
// does: each converted to F first, then combined in F.
func newParams[F float32 | float64](a *Adam, c1, c2 float64) *adamParams[F] {
	return &adamParams[F]{
		onePerBatch: 1 / F(a.batch), batched: a.batch > 1,
		beta1: F(a.beta1), beta2: F(a.beta2), omb1: 1 - F(a.beta1), omb2: 1 - F(a.beta2),
		cv1: 1 / F(c1), cv2: 1 / F(c2), eps: F(a.eps), negEta: -F(a.eta),
	}
}

// stepLearnable steps one learnable's elements, its moments made at its
// first step.
func stepLearnable[F float32 | float64](n gorgonia.ValueGrad, w, g []F, mo *moments, p *adamParams[F]) error {
	if mo.m == nil {
		mo.m, mo.v = make([]F, len(w)), make([]F, len(w))
	}
	m, mok := mo.m.([]F)
	v, vok := mo.v.([]F)
	if !mok || !vok || len(m) != len(w) {
		return fmt.Errorf("train: Adam: %v changed shape or dtype between steps", n)
	}
	parallel.Range(len(w), 1<<14, func(lo, hi int) { stepElements(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], p) })
	return nil
}

// stepElements is adamStep, with float32 through adamStep32's vector code
// where the CPU has it.
func stepElements[F float32 | float64](w, g, m, v []F, p *adamParams[F]) {
	if w32, ok := any(w).([]float32); ok {
		adamStep32(w32, any(g).([]float32), any(m).([]float32), any(v).([]float32), any(p).(*adamParams[float32]))
		return
	}
	adamStep(w, g, m, v, p)
}

// adamParams are a step's constants, in the learnable's precision.
type adamParams[F float32 | float64] struct {
	onePerBatch, beta1, beta2, omb1, omb2, cv1, cv2, eps, negEta F
	batched                                                      bool
}

// adamStep is AdamSolver.Step on the elements of one learnable, operation
// for operation: g /= batch; m' = g·(1−β₁) + m·β₁; v' = (g·g)·(1−β₂) + v·β₂;
// w += (m'·c₁)·(−η) / (√(v'·c₂) + ε); g = 0. The conversions round every
// product on its own, as AdamSolver's separate tensor operations do, and the
// float64 square root rounded to float32 is the correctly rounded float32
// one, as Gorgonia's math32.Sqrt.
func adamStep[F float32 | float64](w, g, m, v []F, p *adamParams[F]) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, gi := range g {
		if p.batched {
			gi = gi * p.onePerBatch
		}
		t1 := F(gi * p.omb1)
		g2 := F(F(gi*gi) * p.omb2)
		t1 = t1 + F(m[i]*p.beta1)
		g2 = g2 + F(v[i]*p.beta2)
		m[i], v[i] = t1, g2
		mHat := F(t1 * p.cv1)
		vHat := F(math.Sqrt(float64(F(g2*p.cv2)))) + p.eps
		mHat = F(mHat * p.negEta)
		w[i] = w[i] + mHat/vHat
		g[i] = 0
	}
}
