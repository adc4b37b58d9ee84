package train

import (
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CrossEntropy is the mean over the batch of the cross-entropy between
// softmax(logits) and the one-hot targets y, computed through LogSoftMax so
// that a confident wrong answer costs a large loss, not −log(0).
func CrossEntropy(logits, y *gorgonia.Node) (*gorgonia.Node, error) {
	logp, err := gorgonia.LogSoftMax(logits)
	if err != nil {
		return nil, err
	}
	picked, err := gorgonia.HadamardProd(logp, y)
	if err != nil {
		return nil, err
	}
	perExample, err := gorgonia.Sum(picked, 1)
	if err != nil {
		return nil, err
	}
	mean, err := gorgonia.Mean(perExample)
	if err != nil {
		return nil, err
	}
	return gorgonia.Neg(mean)
}

// HeNormal returns float32 weights of the given shape drawn from
// N(0, 2/fanIn) with rng. Gorgonia's own initialisers seed from the clock; a
// comparison between runs (stock and mined, say) needs the same start.
func HeNormal(rng *rand.Rand, fanIn int, shape ...int) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	w := make([]float32, n)
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = float32(rng.NormFloat64() * std)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(w))
}
