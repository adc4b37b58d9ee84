package main

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/train"
)

// mulFunc multiplies two nodes: gorgonia.Mul for the stock model, op.Mul
// bound to a miner for the mined one.
type mulFunc func(a, b *gorgonia.Node) (*gorgonia.Node, error)

// classifierHead adds the loss (mean cross-entropy of the softmax) and the
// gradients of every learnable, and names the model.
func classifierHead(name string, g *gorgonia.ExprGraph, x, y, logits *gorgonia.Node, learnables gorgonia.Nodes) (*train.Model, error) {
	loss, err := train.CrossEntropy(logits, y)
	if err != nil {
		return nil, err
	}
	if _, err := gorgonia.Grad(loss, learnables...); err != nil {
		return nil, fmt.Errorf("gradients: %w", err)
	}
	return &train.Model{Name: name, Graph: g, X: x, Y: y, Output: logits, Loss: loss, Learnables: learnables}, nil
}

// newMLP builds 784 → hidden (ReLU) → 10.
func newMLP(batch, hidden int, mul mulFunc, seed uint64) (*train.Model, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := gorgonia.NewGraph()
	features := 28 * 28
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, features), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, mnist.Classes), gorgonia.WithName("y"))
	w1 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w1"), gorgonia.WithValue(train.HeNormal(rng, features, features, hidden)))
	b1 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithName("b1"), gorgonia.WithShape(hidden), gorgonia.WithInit(gorgonia.Zeroes()))
	w2 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w2"), gorgonia.WithValue(train.HeNormal(rng, hidden, hidden, mnist.Classes)))
	b2 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithName("b2"), gorgonia.WithShape(mnist.Classes), gorgonia.WithInit(gorgonia.Zeroes()))

	h, err := dense(x, w1, b1, mul)
	if err != nil {
		return nil, fmt.Errorf("layer 1: %w", err)
	}
	if h, err = gorgonia.Rectify(h); err != nil {
		return nil, err
	}
	logits, err := dense(h, w2, b2, mul)
	if err != nil {
		return nil, fmt.Errorf("layer 2: %w", err)
	}
	return classifierHead(fmt.Sprintf("mlp 784-%d-10", hidden), g, x, y, logits, gorgonia.Nodes{w1, b1, w2, b2})
}

// dense is x·w + b, b broadcast over the batch.
func dense(x, w, b *gorgonia.Node, mul mulFunc) (*gorgonia.Node, error) {
	xw, err := mul(x, w)
	if err != nil {
		return nil, err
	}
	return gorgonia.BroadcastAdd(xw, b, nil, []byte{0})
}

// newCNN builds conv(3×3, c1) → ReLU → maxpool 2 → conv(3×3, c2) → ReLU →
// maxpool 2 → dense 10, with Gorgonia's own Conv2d: its hidden im2col matmul
// is what graph.Swap converts.
func newCNN(batch, c1, c2 int, mul mulFunc, seed uint64) (*train.Model, error) {
	rng := rand.New(rand.NewPCG(seed, 2))
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(batch, 1, 28, 28), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, mnist.Classes), gorgonia.WithName("y"))
	f1 := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithName("f1"), gorgonia.WithValue(train.HeNormal(rng, 9, c1, 1, 3, 3)))
	f2 := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithName("f2"), gorgonia.WithValue(train.HeNormal(rng, 9*c1, c2, c1, 3, 3)))
	flat := c2 * 7 * 7
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w3"), gorgonia.WithValue(train.HeNormal(rng, flat, flat, mnist.Classes)))
	b := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithName("b3"), gorgonia.WithShape(mnist.Classes), gorgonia.WithInit(gorgonia.Zeroes()))

	h := x
	for i, f := range []*gorgonia.Node{f1, f2} {
		c, err := gorgonia.Conv2d(h, f, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		if err != nil {
			return nil, fmt.Errorf("conv %d: %w", i+1, err)
		}
		if c, err = gorgonia.Rectify(c); err != nil {
			return nil, err
		}
		if h, err = gorgonia.MaxPool2D(c, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}); err != nil {
			return nil, fmt.Errorf("pool %d: %w", i+1, err)
		}
	}
	r, err := gorgonia.Reshape(h, tensor.Shape{batch, flat})
	if err != nil {
		return nil, err
	}
	logits, err := dense(r, w, b, mul)
	if err != nil {
		return nil, fmt.Errorf("dense: %w", err)
	}
	return classifierHead(fmt.Sprintf("cnn conv%d-conv%d-10", c1, c2), g, x, y, logits, gorgonia.Nodes{f1, f2, w, b})
}
