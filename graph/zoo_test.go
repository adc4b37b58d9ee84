package graph

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
)

// logReg is logistic regression as a Gorgonia user writes it: the batch X
// times a weight vector w (a matrix × vector product), plus a bias, through
// a sigmoid into binary cross-entropy.
type logReg struct {
	g          *gorgonia.ExprGraph
	x, y, w, b *gorgonia.Node
	cost       *gorgonia.Node
}

// buildLogReg builds the model on linearly separable data: the labels are
// the signs of X·w* for a hidden w*.
func buildLogReg(t testing.TB, r *zooRig, dt tensor.Dtype, batch, features int) *logReg {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 1))
	xv := zooNormal(rng, 1, batch, features)
	truth := zooNormal(rng, 1, features)
	labels := make([]float64, batch)
	for i := range labels {
		row, err := xv.Slice(gorgonia.S(i))
		require.NoError(t, err)
		d, err := tensor.Inner(row, truth)
		require.NoError(t, err)
		if d.(float64) > 0 {
			labels[i] = 1
		}
	}

	g := gorgonia.NewGraph()
	m := &logReg{g: g}
	m.x = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(batch, features), gorgonia.WithValue(zooAs(dt, xv)), gorgonia.WithName("x"))
	m.y = gorgonia.NewVector(g, dt, gorgonia.WithShape(batch), gorgonia.WithValue(zooAs(dt, tensor.New(tensor.WithBacking(labels)))), gorgonia.WithName("y"))
	m.w = gorgonia.NewVector(g, dt, gorgonia.WithShape(features), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("w"))
	var one *gorgonia.Node
	if dt == tensor.Float32 {
		m.b = gorgonia.NewScalar(g, dt, gorgonia.WithValue(float32(0)), gorgonia.WithName("b"))
		one = gorgonia.NewConstant(float32(1))
	} else {
		m.b = gorgonia.NewScalar(g, dt, gorgonia.WithValue(0.0), gorgonia.WithName("b"))
		one = gorgonia.NewConstant(1.0)
	}

	z := gorgonia.Must(gorgonia.Add(r.must(m.x, m.w), m.b))
	p := gorgonia.Must(gorgonia.Sigmoid(z))
	// −[y·log p + (1−y)·log(1−p)], averaged over the batch.
	pos := gorgonia.Must(gorgonia.HadamardProd(m.y, gorgonia.Must(gorgonia.Log(p))))
	neg := gorgonia.Must(gorgonia.HadamardProd(gorgonia.Must(gorgonia.Sub(one, m.y)), gorgonia.Must(gorgonia.Log(gorgonia.Must(gorgonia.Sub(one, p))))))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Add(pos, neg))))))
	return m
}

// TestZooLogisticRegression trains logistic regression, whose only products
// are matrix × vector: X·w forward and Xᵀ·g for w's gradient (X's gradient
// is an outer product, which Swap leaves to Gorgonia). None of them fits a
// tile, so the miner mines nothing and lists every product as unmined
// (ErrTile) with its shape, and the mined variants compute them in float
// with the BLAS calls Gorgonia makes: their losses must equal the stock
// model's bit for bit at every step, not merely be close, in float64 and
// in float32.
func TestZooLogisticRegression(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) { testZooLogisticRegression(t, dt) })
	}
}

func testZooLogisticRegression(t *testing.T, dt tensor.Dtype) {
	const batch, features, steps = 64, 48, 40
	runs := map[zooVariant]*zooRun{}
	weights := map[zooVariant]any{}
	for _, v := range zooVariants {
		r := newZooRig(t, v)
		m := buildLogReg(t, r, dt, batch, features)
		_, err := gorgonia.Grad(m.cost, m.w, m.b)
		require.NoError(t, err)
		census := r.swap(t, m.g)
		vm := gorgonia.NewTapeMachine(m.g, gorgonia.BindDualValues(m.w, m.b))
		solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.5))
		losses := zooLoop(t, steps, m.cost, gorgonia.Nodes{m.w, m.b}, solver, nil, vm.RunAll, vm.Reset)
		require.NoError(t, vm.Close())
		weights[v] = m.w.Value().(*tensor.Dense).Clone().(*tensor.Dense).Data()
		runs[v] = &zooRun{losses: losses, stats: r.stats(), proofs: r.checkProofs(t), census: census}
	}
	logFigures(t, "logistic regression "+dt.String(), runs)

	stock := runs[zooStock].losses
	assert.InDelta(t, math.Ln2, stock[0], 1e-6, "w = 0 starts at log 2")
	for _, v := range []zooVariant{zooSwap, zooOpMul} {
		run := runs[v]
		checkTrains(t, v, run.losses, stock)
		// Bitwise: the float path is Gorgonia's own arithmetic.
		assert.Equal(t, stock, run.losses, "%v: losses differ from stock", v)
		assert.Equal(t, weights[zooStock], weights[v], "%v: weights differ from stock", v)
		// Nothing is mined; both products of every step are listed.
		want := zooCount{forward: 1, gradB: 1, unmined: expectUnmined{}}
		want.unmined.add(pouw.ErrTile, batch, features, 1, 1) // X·w
		want.unmined.add(pouw.ErrTile, features, batch, 1, 1) // Xᵀ·g
		want.check(t, run.stats, steps)
		assert.Zero(t, run.stats.Mined)
		assert.Zero(t, run.proofs)
	}
	c := runs[zooSwap].census
	require.Len(t, c.Converted, 2, c.String())
	assert.Equal(t, map[op.Role]int{op.Forward: 1, op.GradB: 1}, c.Roles())
	for _, cv := range c.Converted {
		assert.Equal(t, op.MatVec, cv.Kind)
	}
	require.Len(t, c.Skipped, 1)
	assert.Equal(t, "outer product: no inner dimension", c.Skipped[0].Reason)
}

// vecMLP is a classifier fed one example at a time: x is a vector, so its
// layers W1·x and W2·h are matrix × vector products.
type vecMLP struct {
	g                    *gorgonia.ExprGraph
	x, y, w1, b1, w2, b2 *gorgonia.Node
	cost                 *gorgonia.Node
}

func (m *vecMLP) params() gorgonia.Nodes { return gorgonia.Nodes{m.w1, m.b1, m.w2, m.b2} }

// zooClusters is a data set of n examples in classes Gaussian clusters:
// each class a random centre, each example its centre plus noise.
func zooClusters(seed uint64, n, dim, classes int, noise float64) (xs []*tensor.Dense, labels []int) {
	rng := rand.New(rand.NewPCG(seed, 2))
	centres := make([]*tensor.Dense, classes)
	for c := range centres {
		centres[c] = zooNormal(rng, 1, dim)
	}
	for i := range n {
		c := i % classes
		x := zooNormal(rng, noise, dim)
		for j, v := range centres[c].Data().([]float64) {
			x.Data().([]float64)[j] += v
		}
		xs = append(xs, x)
		labels = append(labels, c)
	}
	return xs, labels
}

func buildVecMLP(t testing.TB, r *zooRig, in, hidden, classes int) *vecMLP {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 1))
	g := gorgonia.NewGraph()
	m := &vecMLP{g: g}
	m.x = gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(in), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("x"))
	m.y = gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(classes), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("y"))
	m.w1 = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(hidden, in), gorgonia.WithValue(zooNormal(rng, math.Sqrt(2/float64(in)), hidden, in)), gorgonia.WithName("w1"))
	m.b1 = gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(hidden), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("b1"))
	m.w2 = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(classes, hidden), gorgonia.WithValue(zooNormal(rng, math.Sqrt(1/float64(hidden)), classes, hidden)), gorgonia.WithName("w2"))
	m.b2 = gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(classes), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("b2"))
	h := gorgonia.Must(gorgonia.Rectify(gorgonia.Must(gorgonia.Add(r.must(m.w1, m.x), m.b1))))
	logits := gorgonia.Must(gorgonia.Add(r.must(m.w2, h), m.b2))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(gorgonia.Must(gorgonia.LogSoftMax(logits)), m.y))))))
	return m
}

// TestZooPerExampleMLP trains a two-layer classifier one example at a time
// (SGD with batch 1, the inputs set with gorgonia.Let each step): every product
// is a matrix × vector one, forward (W1·x, W2·h) and backward (W2ᵀ·g and
// W1ᵀ·g, the gradients of h and x), so nothing is mined and every product is
// listed as unmined (ErrTile) with its shape. The float path being stock
// arithmetic, the mined variants train exactly like the stock model.
func TestZooPerExampleMLP(t *testing.T) {
	const in, hidden, classes, examples, epochs = 64, 32, 4, 32, 4
	xs, labels := zooClusters(22, examples, in, classes, 1)
	runs := map[zooVariant]*zooRun{}
	for _, v := range zooVariants {
		r := newZooRig(t, v)
		m := buildVecMLP(t, r, in, hidden, classes)
		_, err := gorgonia.Grad(m.cost, m.params()...)
		require.NoError(t, err)
		census := r.swap(t, m.g)
		vm := gorgonia.NewTapeMachine(m.g, gorgonia.BindDualValues(m.params()...))
		solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.02))
		feed := func(step int) {
			i := step % examples
			require.NoError(t, gorgonia.Let(m.x, xs[i]))
			require.NoError(t, gorgonia.Let(m.y, zooOneHot(labels[i:i+1], classes, true)))
		}
		losses := zooLoop(t, examples*epochs, m.cost, m.params(), solver, feed, vm.RunAll, vm.Reset)
		require.NoError(t, vm.Close())
		runs[v] = &zooRun{losses: zooMean(losses, examples), raw: losses, stats: r.stats(), proofs: r.checkProofs(t), census: census}
	}
	logFigures(t, "per-example MLP (epoch means)", runs)

	stock := runs[zooStock].losses
	for _, v := range []zooVariant{zooSwap, zooOpMul} {
		run := runs[v]
		checkTrains(t, v, run.losses, stock)
		assert.Equal(t, runs[zooStock].raw, run.raw, "%v: losses differ from stock", v)
		want := zooCount{forward: 2, gradB: 2, unmined: expectUnmined{}}
		want.unmined.add(pouw.ErrTile, hidden, in, 1, 1)      // W1·x
		want.unmined.add(pouw.ErrTile, classes, hidden, 1, 1) // W2·h
		want.unmined.add(pouw.ErrTile, hidden, classes, 1, 1) // W2ᵀ·g: h's gradient
		want.unmined.add(pouw.ErrTile, in, hidden, 1, 1)      // W1ᵀ·g: x's gradient
		want.check(t, run.stats, examples*epochs)
		assert.Zero(t, run.stats.Mined)
		assert.Zero(t, run.proofs)
	}
	c := runs[zooSwap].census
	assert.Equal(t, map[op.Role]int{op.Forward: 2, op.GradB: 2}, c.Roles(), c.String())
	assert.Len(t, c.Skipped, 2, "the weights' gradients are outer products")
}

// rnn is a vanilla RNN unrolled over len(xs) steps,
// h_t = tanh(Wx·x_t + Wh·h_{t−1}), classifying the sequence from its last
// state. Unbatched, x_t and h_t are vectors and the products matrix ×
// vector; batched, they are batch×in and batch×hidden matrices
// (H_t = tanh(X_t·Wx + H_{t−1}·Wh)) and the products matrix × matrix.
type rnn struct {
	g          *gorgonia.ExprGraph
	xs         gorgonia.Nodes
	h0, y      *gorgonia.Node
	wx, wh, wy *gorgonia.Node
	cost       *gorgonia.Node
}

func (m *rnn) params() gorgonia.Nodes { return gorgonia.Nodes{m.wx, m.wh, m.wy} }

func buildRNN(t testing.TB, r *zooRig, batch, in, hidden, classes, steps int) *rnn {
	t.Helper()
	rng := rand.New(rand.NewPCG(31, 1))
	g := gorgonia.NewGraph()
	m := &rnn{g: g}
	batched := batch > 0
	// shape is a per-step value's shape: a vector, or batch rows of it.
	shape := func(n int) []int {
		if batched {
			return []int{batch, n}
		}
		return []int{n}
	}
	node := func(name string, n int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float64, len(shape(n)), gorgonia.WithShape(shape(n)...), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName(name))
	}
	// A weight used as W·v (unbatched) is stored out×in, as V·W in×out.
	weight := func(name string, out, in int, scale float64) *gorgonia.Node {
		s := []int{out, in}
		if batched {
			s = []int{in, out}
		}
		return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(s...), gorgonia.WithValue(zooNormal(rng, scale, s...)), gorgonia.WithName(name))
	}
	prod := func(w, v *gorgonia.Node) *gorgonia.Node {
		if batched {
			return r.must(v, w)
		}
		return r.must(w, v)
	}
	for i := range steps {
		m.xs = append(m.xs, node("x"+strconv.Itoa(i), in))
	}
	m.h0 = node("h0", hidden)
	m.y = node("y", classes)
	m.wx = weight("wx", hidden, in, 1/math.Sqrt(float64(in)))
	m.wh = weight("wh", hidden, hidden, 0.5/math.Sqrt(float64(hidden)))
	m.wy = weight("wy", classes, hidden, 1/math.Sqrt(float64(hidden)))
	h := m.h0
	for _, x := range m.xs {
		h = gorgonia.Must(gorgonia.Tanh(gorgonia.Must(gorgonia.Add(prod(m.wx, x), prod(m.wh, h)))))
	}
	lsm := gorgonia.Must(gorgonia.LogSoftMax(prod(m.wy, h)))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(lsm, m.y))))))
	if batched {
		m.cost = gorgonia.Must(gorgonia.Div(m.cost, gorgonia.NewConstant(float64(batch))))
	}
	return m
}

// zooSequences is a data set of n sequences of steps in-vectors in classes
// classes: each class a random prototype sequence, each sequence its
// class's plus noise.
func zooSequences(seed uint64, n, steps, in, classes int, noise float64) (seqs [][]*tensor.Dense, labels []int) {
	rng := rand.New(rand.NewPCG(seed, 3))
	protos := make([][]*tensor.Dense, classes)
	for c := range protos {
		for range steps {
			protos[c] = append(protos[c], zooNormal(rng, 1, in))
		}
	}
	for i := range n {
		c := i % classes
		var seq []*tensor.Dense
		for s := range steps {
			x := zooNormal(rng, noise, in)
			for j, v := range protos[c][s].Data().([]float64) {
				x.Data().([]float64)[j] += v
			}
			seq = append(seq, x)
		}
		seqs = append(seqs, seq)
		labels = append(labels, c)
	}
	return seqs, labels
}

// stackStep is step s of a batch of sequences: row i is seqs[i][s].
func stackStep(seqs [][]*tensor.Dense, s int) *tensor.Dense {
	in := seqs[0][s].Shape()[0]
	d := make([]float64, 0, len(seqs)*in)
	for _, seq := range seqs {
		d = append(d, seq[s].Data().([]float64)...)
	}
	return tensor.New(tensor.WithShape(len(seqs), in), tensor.WithBacking(d))
}

// zooLisp runs one step on a fresh LispMachine, as Gorgonia users drive it
// (Gorgonia's own charRNN example builds one per training step): a
// LispMachine executes its graph once, and a second RunAll on the same
// machine (Reset or not) does not run the forward pass again.
func zooLisp(g *gorgonia.ExprGraph) func() error {
	return func() error {
		vm := gorgonia.NewLispMachine(g)
		defer vm.Close()
		return vm.RunAll()
	}
}

// TestZooRNN trains a vanilla RNN on the LispMachine, which differentiates
// as it runs (MinedMatMul.DoDiff), unbatched and batched.
//
// Unbatched ("matvec"), every product is matrix × vector — the hidden
// updates Wx·x_t and Wh·h_{t−1}, the output Wy·h_T and the vector
// gradients Wᵀ·g the LispMachine adds for every input that has a
// derivative — so nothing is mined and all of them are listed as unmined
// (ErrTile); the float path is Gorgonia's arithmetic, so the losses equal the
// stock model's bit for bit.
//
// Batched ("batched"), the same products are matrix × matrix and most are
// mined on the LispMachine, forward and backward: all but X_t·Wx (k = in = 8,
// below the noise rank 32) and the output's input gradient G·Wyᵀ
// (k = classes = 4).
func TestZooRNN(t *testing.T) {
	const in, hidden, classes, T = 8, 32, 4, 4
	t.Run("matvec", func(t *testing.T) {
		const n, epochs = 16, 4
		seqs, labels := zooSequences(32, n, T, in, classes, 0.5)
		runs := map[zooVariant]*zooRun{}
		for _, v := range zooVariants {
			r := newZooRig(t, v)
			m := buildRNN(t, r, 0, in, hidden, classes, T)
			census := r.swap(t, m.g)
			solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.02))
			feed := func(step int) {
				i := step % n
				for s, x := range m.xs {
					require.NoError(t, gorgonia.Let(x, seqs[i][s]))
				}
				require.NoError(t, gorgonia.Let(m.y, zooOneHot(labels[i:i+1], classes, true)))
			}
			losses := zooLoop(t, n*epochs, m.cost, m.params(), solver, feed, zooLisp(m.g), nil)
			runs[v] = &zooRun{losses: zooMean(losses, n), raw: losses, stats: r.stats(), proofs: r.checkProofs(t), census: census}
		}
		logFigures(t, "RNN matvec, LispMachine (epoch means)", runs)
		stock := runs[zooStock].losses
		for _, v := range []zooVariant{zooSwap, zooOpMul} {
			run := runs[v]
			checkTrains(t, v, run.losses, stock)
			assert.Equal(t, runs[zooStock].raw, run.raw, "%v: losses differ from stock", v)
			// Per step: 2T+1 forward products and, on the LispMachine, the
			// vector gradient Wᵀ·g of each (every input has a derivative,
			// the data x_t and the initial state h0 too).
			want := zooCount{forward: 2*T + 1, gradB: 2*T + 1, unmined: expectUnmined{}}
			want.unmined.add(pouw.ErrTile, hidden, in, 1, T)       // Wx·x_t
			want.unmined.add(pouw.ErrTile, hidden, hidden, 1, 2*T) // Wh·h_{t−1} and Whᵀ·g
			want.unmined.add(pouw.ErrTile, classes, hidden, 1, 1)  // Wy·h_T
			want.unmined.add(pouw.ErrTile, in, hidden, 1, T)       // Wxᵀ·g
			want.unmined.add(pouw.ErrTile, hidden, classes, 1, 1)  // Wyᵀ·g
			want.check(t, run.stats, n*epochs)
			assert.Zero(t, run.stats.Mined)
			assert.Zero(t, run.proofs)
		}
		c := runs[zooSwap].census
		assert.Equal(t, map[op.Role]int{op.Forward: 2*T + 1}, c.Roles(), "Swap before a LispMachine converts the forward products: %v", c)
	})
	t.Run("batched", func(t *testing.T) {
		const batch, steps = 32, 20
		seqs, labels := zooSequences(33, batch, T, in, classes, 0.5)
		runs := map[zooVariant]*zooRun{}
		for _, v := range zooVariants {
			r := newZooRig(t, v)
			m := buildRNN(t, r, batch, in, hidden, classes, T)
			for s, x := range m.xs {
				require.NoError(t, gorgonia.Let(x, stackStep(seqs, s)))
			}
			require.NoError(t, gorgonia.Let(m.y, zooOneHot(labels, classes, false)))
			census := r.swap(t, m.g)
			solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.02))
			losses := zooLoop(t, steps, m.cost, m.params(), solver, nil, zooLisp(m.g), nil)
			runs[v] = &zooRun{losses: losses, stats: r.stats(), proofs: r.checkProofs(t), census: census}
		}
		logFigures(t, "RNN batched, LispMachine", runs)
		stock := runs[zooStock].losses
		for _, v := range []zooVariant{zooSwap, zooOpMul} {
			run := runs[v]
			checkTrains(t, v, run.losses, stock)
			// Per step: 2T+1 forward products, and both gradients of each.
			// Unmined: X_t·Wx (k = in) and G·Wyᵀ (k = classes), both
			// below the noise rank.
			want := zooCount{forward: 2*T + 1, gradA: 2*T + 1, gradB: 2*T + 1, unmined: expectUnmined{}}
			want.unmined.add(pouw.ErrInnerDim, batch, in, hidden, T)
			want.unmined.add(pouw.ErrInnerDim, batch, classes, hidden, 1)
			want.check(t, run.stats, steps)
			assert.Positive(t, run.proofs)
		}
		// Swap and op.Mul put the same op on the same node (the graphs are
		// built in the same order, so the nodes have the same IDs, which
		// seed the stochastic rounding): the same bits, proofs included.
		assert.Equal(t, runs[zooOpMul].losses, runs[zooSwap].losses)
		assert.Equal(t, runs[zooOpMul].stats.Proofs, runs[zooSwap].stats.Proofs)
		c := runs[zooSwap].census
		assert.Equal(t, map[op.Role]int{op.Forward: 2*T + 1}, c.Roles(), "Swap before a LispMachine converts the forward products: %v", c)
	})
}

// convnet is a small image classifier in float64: conv 3×3 → ReLU → max-pool
// 2×2, twice, then a dense layer into log-softmax and the negative
// log-likelihood.
type convnet struct {
	g         *gorgonia.ExprGraph
	x, y      *gorgonia.Node
	f1, f2, w *gorgonia.Node
	cost      *gorgonia.Node
}

func (m *convnet) params() gorgonia.Nodes { return gorgonia.Nodes{m.f1, m.f2, m.w} }

// zooConv2d is gorgonia.Conv2d (stride 1, dilation 1) written with op.MulT:
// im2col, the patches times the flattened filters transposed, and back to
// NCHW. It builds its nodes in Conv2d's order, so the model has the same
// node IDs as the stock one.
func zooConv2d(miner *pouw.Miner, im, filter *gorgonia.Node, kernel tensor.Shape, pad []int) (*gorgonia.Node, error) {
	col, err := gorgonia.Im2Col(im, kernel, pad, []int{1, 1}, []int{1, 1})
	if err != nil {
		return nil, err
	}
	fs, cs := filter.Shape(), col.Shape()
	flat, err := gorgonia.Reshape(filter, tensor.Shape{fs[0], fs[1] * fs[2] * fs[3]})
	if err != nil {
		return nil, err
	}
	patches, err := gorgonia.Reshape(col, tensor.Shape{cs[0] * cs[1] * cs[2], cs[3]})
	if err != nil {
		return nil, err
	}
	out, err := op.MulT(miner, patches, flat, false, true)
	if err != nil {
		return nil, err
	}
	nhwc, err := gorgonia.Reshape(out, tensor.Shape{cs[0], cs[1], cs[2], fs[0]})
	if err != nil {
		return nil, err
	}
	return gorgonia.Transpose(nhwc, 0, 3, 1, 2)
}

func buildConvnet(t testing.TB, r *zooRig, batch, side, c1, c2, classes int) *convnet {
	t.Helper()
	rng := rand.New(rand.NewPCG(41, 1))
	g := gorgonia.NewGraph()
	m := &convnet{g: g}
	m.x = gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(batch, 1, side, side), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("x"))
	m.y = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, classes), gorgonia.WithInit(gorgonia.Zeroes()), gorgonia.WithName("y"))
	m.f1 = gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(c1, 1, 3, 3), gorgonia.WithValue(zooNormal(rng, math.Sqrt(2/9.0), c1, 1, 3, 3)), gorgonia.WithName("f1"))
	m.f2 = gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(c2, c1, 3, 3), gorgonia.WithValue(zooNormal(rng, math.Sqrt(2/float64(9*c1)), c2, c1, 3, 3)), gorgonia.WithName("f2"))
	flatSize := c2 * (side / 4) * (side / 4)
	m.w = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(flatSize, classes), gorgonia.WithValue(zooNormal(rng, math.Sqrt(1/float64(flatSize)), flatSize, classes)), gorgonia.WithName("w"))

	conv := func(x, f *gorgonia.Node) *gorgonia.Node {
		if r.v == zooOpMul {
			return gorgonia.Must(zooConv2d(r.miner, x, f, tensor.Shape{3, 3}, []int{1, 1}))
		}
		return gorgonia.Must(gorgonia.Conv2d(x, f, tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1}))
	}
	block := func(x, f *gorgonia.Node) *gorgonia.Node {
		act := gorgonia.Must(gorgonia.Rectify(conv(x, f)))
		return gorgonia.Must(gorgonia.MaxPool2D(act, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}))
	}
	h := block(block(m.x, m.f1), m.f2)
	flat := gorgonia.Must(gorgonia.Reshape(h, tensor.Shape{batch, flatSize}))
	logp := gorgonia.Must(gorgonia.LogSoftMax(r.must(flat, m.w)))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.HadamardProd(logp, m.y))))))
	return m
}

// zooImages is a batch of side×side one-channel images in classes classes:
// each class a random pattern, each image its class's pattern plus noise.
func zooImages(seed uint64, batch, side, classes int, noise float64) (*tensor.Dense, []int) {
	rng := rand.New(rand.NewPCG(seed, 4))
	px := side * side
	patterns := zooNormal(rng, 1, classes, px).Data().([]float64)
	d := make([]float64, batch*px)
	labels := make([]int, batch)
	for i := range batch {
		c := i % classes
		labels[i] = c
		for j := range px {
			d[i*px+j] = patterns[c*px+j] + noise*rng.NormFloat64()
		}
	}
	return tensor.New(tensor.WithShape(batch, 1, side, side), tensor.WithBacking(d)), labels
}

// TestZooConvnet trains a float64 convnet built with gorgonia.Conv2d and
// gorgonia.MaxPool2D on the TapeMachine, with gradients from gorgonia.Grad.
// Conv2d hides an im2col product (patches × filtersᵀ) that Swap converts like
// any other, and that op.Mul builds by hand (zooConv2d). Per step the nine
// products (three forward, three of each gradient) are:
//
//	conv1  2048×9×8     forward  unmined: k = 1·3·3 = 9 < 32
//	       2048×8×9     grad-A   unmined: k = 8 filters
//	       8×2048×9     grad-B   mined
//	conv2  512×72×16    forward  mined
//	       512×16×72    grad-A   unmined: k = 16 filters
//	       16×512×72    grad-B   mined
//	dense  32×64×4      forward  mined
//	       32×4×64      grad-A   unmined: k = 4 classes
//	       64×32×4      grad-B   mined
func TestZooConvnet(t *testing.T) {
	const batch, side, c1, c2, classes, steps = 32, 8, 8, 16, 4, 15
	xv, labels := zooImages(42, batch, side, classes, 1.5)
	runs := map[zooVariant]*zooRun{}
	for _, v := range zooVariants {
		r := newZooRig(t, v)
		m := buildConvnet(t, r, batch, side, c1, c2, classes)
		require.NoError(t, gorgonia.Let(m.x, xv))
		require.NoError(t, gorgonia.Let(m.y, zooOneHot(labels, classes, false)))
		_, err := gorgonia.Grad(m.cost, m.params()...)
		require.NoError(t, err)
		census := r.swap(t, m.g)
		vm := gorgonia.NewTapeMachine(m.g, gorgonia.BindDualValues(m.params()...))
		solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.002))
		losses := zooLoop(t, steps, m.cost, m.params(), solver, nil, vm.RunAll, vm.Reset)
		require.NoError(t, vm.Close())
		runs[v] = &zooRun{losses: losses, stats: r.stats(), proofs: r.checkProofs(t), census: census}
	}
	logFigures(t, "convnet", runs)
	stock := runs[zooStock].losses
	for _, v := range []zooVariant{zooSwap, zooOpMul} {
		run := runs[v]
		checkTrains(t, v, run.losses, stock)
		want := zooCount{forward: 3, gradA: 3, gradB: 3, unmined: expectUnmined{}}
		want.unmined.add(pouw.ErrInnerDim, batch*side*side, 9, c1, 1)
		want.unmined.add(pouw.ErrInnerDim, batch*side*side, c1, 9, 1)
		want.unmined.add(pouw.ErrInnerDim, batch*side*side/4, c2, 9*c1, 1)
		want.unmined.add(pouw.ErrInnerDim, batch, classes, c2*side*side/16, 1)
		want.check(t, run.stats, steps)
		assert.Positive(t, run.proofs)
	}
	c := runs[zooSwap].census
	assert.Equal(t, map[op.Role]int{op.Forward: 3, op.GradA: 3, op.GradB: 3}, c.Roles(), c.String())
	assert.Empty(t, c.Skipped)
	assert.Equal(t, runs[zooOpMul].losses, runs[zooSwap].losses)
}

// zooBatch stacks vectors into a batch matrix.
func zooBatch(xs []*tensor.Dense) *tensor.Dense {
	dim := xs[0].Shape()[0]
	d := make([]float64, 0, len(xs)*dim)
	for _, x := range xs {
		d = append(d, x.Data().([]float64)...)
	}
	return tensor.New(tensor.WithShape(len(xs), dim), tensor.WithBacking(d))
}

// zooLowRank is batch×dim data near a rank-r subspace, which an
// autoencoder with an r-wide code can learn to reconstruct.
func zooLowRank(seed uint64, batch, dim, r int) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 5))
	z := zooNormal(rng, 1, batch, r)
	basis := zooNormal(rng, 1/math.Sqrt(float64(r)), r, dim)
	x, err := tensor.MatMul(z, basis)
	if err != nil {
		panic(err)
	}
	for i, v := range zooNormal(rng, 0.05, batch, dim).Data().([]float64) {
		x.Data().([]float64)[i] += v
	}
	return x.(*tensor.Dense)
}

// TestZooAutoencoder grows an autoencoder in steps, the way a model is
// built layer by layer: the encoder first, converted by Swap; then decoder
// layers written with stock gorgonia.Mul, which StockProducts lists (and
// nothing else: the encoder stays converted); then gorgonia.Grad, whose
// gradients of the encoder are mined already (op.MinedMatMul's SymDiff) while
// those of the decoder are stock again; then a second Swap, which converts
// exactly the stock products StockProducts listed, with their roles. The
// op.Mul variant is written with op.Mul throughout. Per step the twelve
// products (four layers, forward and both gradients) are all mined but two:
// the first decoder layer code·W3 (k = code = 8) and the gradient of the
// encoder's hidden layer G·W2ᵀ (k = 8).
func TestZooAutoencoder(t *testing.T) {
	const batch, dim, hidden, code, steps = 32, 64, 32, 8, 30
	xv := zooLowRank(51, batch, dim, code)
	runs := map[zooVariant]*zooRun{}
	for _, v := range zooVariants {
		r := newZooRig(t, v)
		rng := rand.New(rand.NewPCG(52, 1))
		g := gorgonia.NewGraph()
		weight := func(name string, in, out int) *gorgonia.Node {
			return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(in, out), gorgonia.WithValue(zooNormal(rng, 1/math.Sqrt(float64(in)), in, out)), gorgonia.WithName(name))
		}
		x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, dim), gorgonia.WithValue(xv), gorgonia.WithName("x"))
		w1, w2 := weight("w1", dim, hidden), weight("w2", hidden, code)
		// The encoder.
		z := r.must(gorgonia.Must(gorgonia.Tanh(r.must(x, w1))), w2)
		census := r.swap(t, g)
		if v == zooSwap {
			assert.Equal(t, map[op.Role]int{op.Forward: 2}, census.Roles(), census.String())
		}

		// The decoder, added to a graph that was already converted.
		w3, w4 := weight("w3", code, hidden), weight("w4", hidden, dim)
		d1 := r.must(z, w3)
		d2 := r.must(gorgonia.Must(gorgonia.Tanh(d1)), w4)
		cost := gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.Square(gorgonia.Must(gorgonia.Sub(d2, x))))))
		params := gorgonia.Nodes{w1, w2, w3, w4}
		stock, err := StockProducts(g)
		require.NoError(t, err)
		switch v {
		case zooSwap:
			assert.ElementsMatch(t, gorgonia.Nodes{d1, d2}, stock, "StockProducts lists the decoder's products")
		case zooOpMul:
			assert.Empty(t, stock)
		}

		_, err = gorgonia.Grad(cost, params...)
		require.NoError(t, err)
		if v == zooSwap {
			stock, err = StockProducts(g)
			require.NoError(t, err)
			require.Len(t, stock, 6, "the decoder's products and their 4 stock gradients")
			assert.Subset(t, stock, gorgonia.Nodes{d1, d2})
			mined := 0
			for _, n := range g.AllNodes() {
				if o, ok := n.Op().(op.MinedMatMul); ok && o.Role() != op.Forward {
					mined++
				}
			}
			assert.Equal(t, 4, mined, "the encoder's gradients, built by MinedMatMul.SymDiff, are mined already")
			again, err := Swap(g, r.miner)
			require.NoError(t, err)
			var converted gorgonia.Nodes
			for _, c := range again.Converted {
				converted = append(converted, c.Node)
			}
			assert.ElementsMatch(t, stock, converted, "the second Swap converts exactly the new stock products")
			assert.Equal(t, map[op.Role]int{op.Forward: 2, op.GradA: 2, op.GradB: 2}, again.Roles(), again.String())
			census.Converted = append(census.Converted, again.Converted...)
		}
		left, err := StockProducts(g)
		require.NoError(t, err)
		if v != zooStock {
			assert.Empty(t, left)
		}

		vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...))
		solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01))
		losses := zooLoop(t, steps, cost, params, solver, nil, vm.RunAll, vm.Reset)
		require.NoError(t, vm.Close())
		runs[v] = &zooRun{losses: losses, stats: r.stats(), proofs: r.checkProofs(t), census: census}
	}
	logFigures(t, "autoencoder", runs)
	stock := runs[zooStock].losses
	for _, v := range []zooVariant{zooSwap, zooOpMul} {
		run := runs[v]
		checkTrains(t, v, run.losses, stock)
		want := zooCount{forward: 4, gradA: 4, gradB: 4, unmined: expectUnmined{}}
		want.unmined.add(pouw.ErrInnerDim, batch, code, hidden, 1) // code·W3
		want.unmined.add(pouw.ErrInnerDim, batch, code, hidden, 1) // G·W2ᵀ
		want.check(t, run.stats, steps)
		assert.Positive(t, run.proofs)
	}
	assert.Equal(t, map[op.Role]int{op.Forward: 4, op.GradA: 2, op.GradB: 2}, runs[zooSwap].census.Roles())
	// However it was converted, the swapped model is op.Mul's, bit for bit.
	assert.Equal(t, runs[zooOpMul].losses, runs[zooSwap].losses)
	assert.Equal(t, runs[zooOpMul].stats.ByRole, runs[zooSwap].stats.ByRole)
}

// batchMLP is a two-layer classifier on a batch: x·W1 → tanh → ·W2 →
// log-softmax NLL, with its gradients.
type batchMLP struct {
	g      *gorgonia.ExprGraph
	x, y   *gorgonia.Node
	w1, w2 *gorgonia.Node
	cost   *gorgonia.Node
	grads  gorgonia.Nodes // dW1, dW2
}

func buildBatchMLP(t testing.TB, r *zooRig, batch, in, hidden, classes int) *batchMLP {
	t.Helper()
	xs, labels := zooClusters(61, batch, in, classes, 1.5)
	rng := rand.New(rand.NewPCG(62, 1))
	g := gorgonia.NewGraph()
	m := &batchMLP{g: g}
	m.x = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, in), gorgonia.WithValue(zooBatch(xs)), gorgonia.WithName("x"))
	m.y = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(batch, classes), gorgonia.WithValue(zooOneHot(labels, classes, false)), gorgonia.WithName("y"))
	m.w1 = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(in, hidden), gorgonia.WithValue(zooNormal(rng, 1/math.Sqrt(float64(in)), in, hidden)), gorgonia.WithName("w1"))
	m.w2 = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(hidden, classes), gorgonia.WithValue(zooNormal(rng, 1/math.Sqrt(float64(hidden)), hidden, classes)), gorgonia.WithName("w2"))
	logits := r.must(gorgonia.Must(gorgonia.Tanh(r.must(m.x, m.w1))), m.w2)
	lsm := gorgonia.Must(gorgonia.LogSoftMax(logits))
	m.cost = gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(gorgonia.Must(gorgonia.HadamardProd(lsm, m.y))))))
	var err error
	m.grads, err = gorgonia.Grad(m.cost, m.w1, m.w2)
	require.NoError(t, err)
	return m
}

func (m *batchMLP) params() gorgonia.Nodes { return gorgonia.Nodes{m.w1, m.w2} }

// TestZooCompileFunction trains a model the way gorgonia.CompileFunction
// users do: the program is compiled from the inputs to the outputs (the cost
// and the weights' gradients) and handed to the TapeMachine with
// WithPrecompiled. The program keeps the ops it was compiled with, so:
//
//   - once that machine has run, Swap(g) refuses the graph with an error and
//     leaves it unchanged (its conversions would never run);
//   - SwapProgram(prog, miner) converts the program in place, and the same
//     machine mines from its next run on.
//
// CompileFunction keeps only what the outputs need: the gradient of the
// data x (G·W1ᵀ) is in the graph but not in the program, so the program
// computes five products a step — x·W1 and h·W2, G·W2ᵀ (k = 4 classes,
// unmined), xᵀ·G and hᵀ·G — and SwapProgram converts those five, leaving
// the sixth stock in the graph, where StockProducts still lists it.
func TestZooCompileFunction(t *testing.T) {
	const batch, in, hidden, classes, steps = 32, 64, 32, 4, 20
	runs := map[zooVariant]*zooRun{}
	for _, v := range zooVariants {
		r := newZooRig(t, v)
		m := buildBatchMLP(t, r, batch, in, hidden, classes)
		outputs := append(gorgonia.Nodes{m.cost}, m.grads...)
		prog, locMap, err := gorgonia.CompileFunction(m.g, gorgonia.Nodes{m.x, m.y}, outputs)
		require.NoError(t, err)
		vm := gorgonia.NewTapeMachine(m.g, gorgonia.WithPrecompiled(prog, locMap), gorgonia.BindDualValues(m.params()...))
		solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.1))
		var census Census
		first := 0
		if v == zooSwap {
			// One stock step first: the program runs as compiled.
			first = 1
			head := zooLoop(t, 1, m.cost, m.params(), solver, nil, vm.RunAll, vm.Reset)
			before, err := StockProducts(m.g)
			require.NoError(t, err)
			require.Len(t, before, 6)

			_, err = Swap(m.g, r.miner)
			require.Error(t, err, "Swap after the precompiled program ran")
			assert.Contains(t, err.Error(), "already holds a value")
			after, err := StockProducts(m.g)
			require.NoError(t, err)
			assert.Equal(t, before, after, "a refused Swap changes nothing")
			assert.Zero(t, r.stats().Products)

			census, err = SwapProgram(prog, r.miner)
			require.NoError(t, err)
			assert.Equal(t, 5, census.Instructions, census.String())
			assert.Equal(t, map[op.Role]int{op.Forward: 2, op.GradA: 1, op.GradB: 2}, census.Roles(), census.String())
			left, err := StockProducts(m.g)
			require.NoError(t, err)
			require.Len(t, left, 1, "the product outside the program stays stock")
			assert.Nil(t, left[0].Value(), "and was never computed")
			losses := zooLoop(t, steps-1, m.cost, m.params(), solver, nil, vm.RunAll, vm.Reset)
			runs[v] = &zooRun{losses: append(head, losses...)}
		} else {
			runs[v] = &zooRun{losses: zooLoop(t, steps, m.cost, m.params(), solver, nil, vm.RunAll, vm.Reset)}
		}
		require.NoError(t, vm.Close())
		runs[v].stats, runs[v].proofs, runs[v].census = r.stats(), r.checkProofs(t), census
		if v != zooStock {
			want := zooCount{forward: 2, gradA: 1, gradB: 2, unmined: expectUnmined{}}
			want.unmined.add(pouw.ErrInnerDim, batch, classes, hidden, 1) // G·W2ᵀ
			want.check(t, runs[v].stats, int64(steps-first))
			assert.Positive(t, runs[v].stats.Mined)
			assert.Positive(t, runs[v].proofs)
		}
	}
	logFigures(t, "CompileFunction MLP", runs)
	stock := runs[zooStock].losses
	assert.Equal(t, stock[0], runs[zooSwap].losses[0], "the swap variant's first step is stock")
	for _, v := range []zooVariant{zooSwap, zooOpMul} {
		checkTrains(t, v, runs[v].losses, stock)
	}
}

// TestZooSwapProgramMatchesSwap checks that converting a compiled program
// is the same as converting its graph before compiling it. The same model
// is built three times and compiled with gorgonia.Compile:
//
//   - "Swap, Compile": the graph is swapped, then compiled;
//   - "Compile, SwapProgram": the program is compiled, then converted;
//   - "Compile, Swap, SwapProgram": the graph is swapped after the program
//     was compiled, which leaves the program stock (a run mines nothing,
//     as Swap's documentation warns), and SwapProgram then gives its
//     instructions the nodes' mined ops without converting any node again.
//
// All three train for a few steps through miners with the same settings and
// must produce the same losses, weights and mining statistics bit for bit:
// the mined ops are deterministic, and as the graphs are built in the same
// order their nodes have the same IDs, which seed the stochastic rounding of
// the gradients.
func TestZooSwapProgramMatchesSwap(t *testing.T) {
	const batch, in, hidden, classes, steps = 32, 64, 32, 4, 5
	type result struct {
		losses []float64
		w1, w2 []float64
		stats  pouw.Stats
		census Census
	}
	const (
		swapCompile = iota
		compileSwapProgram
		compileSwapSwapProgram
	)
	run := func(order int) result {
		r := newZooRig(t, zooSwap)
		m := buildBatchMLP(t, r, batch, in, hidden, classes)
		var census Census
		var err error
		if order == swapCompile {
			census, err = Swap(m.g, r.miner)
			require.NoError(t, err)
		}
		prog, locMap, err := gorgonia.Compile(m.g)
		require.NoError(t, err)
		vm := gorgonia.NewTapeMachine(m.g, gorgonia.WithPrecompiled(prog, locMap), gorgonia.BindDualValues(m.params()...))
		defer vm.Close()
		switch order {
		case compileSwapProgram:
			census, err = SwapProgram(prog, r.miner)
			require.NoError(t, err)
		case compileSwapSwapProgram:
			swapped, err := Swap(m.g, r.miner)
			require.NoError(t, err)
			assert.Len(t, swapped.Converted, 6)
			require.NoError(t, vm.RunAll())
			vm.Reset()
			assert.Zero(t, r.stats().Products, "a program compiled before Swap keeps Gorgonia's products")
			// The machine adds the gradients into the weights' bound
			// derivatives, which a solver step zeroes: drop this run's.
			for _, p := range m.params() {
				d, err := p.Grad()
				require.NoError(t, err)
				d.(*tensor.Dense).Zero()
			}
			census, err = SwapProgram(prog, r.miner)
			require.NoError(t, err)
			assert.Empty(t, census.Converted, "the nodes are converted already")
		}
		solver := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.5))
		losses := zooLoop(t, steps, m.cost, m.params(), solver, nil, vm.RunAll, vm.Reset)
		r.checkProofs(t)
		return result{losses, m.w1.Value().Data().([]float64), m.w2.Value().Data().([]float64), r.stats(), census}
	}
	ref := run(swapCompile)
	// The whole graph is compiled: all six products, dX included.
	assert.Equal(t, map[op.Role]int{op.Forward: 2, op.GradA: 2, op.GradB: 2}, ref.census.Roles())
	assert.Zero(t, ref.census.Instructions)
	assert.Equal(t, int64(6*steps), ref.stats.Products)
	assert.Equal(t, int64(5*steps), ref.stats.Mined, "all but G·W2ᵀ (k = 4 classes)")
	for _, order := range []int{compileSwapProgram, compileSwapSwapProgram} {
		got := run(order)
		if order == compileSwapProgram {
			assert.Equal(t, ref.census.Roles(), got.census.Roles())
		}
		assert.Equal(t, 6, got.census.Instructions)
		assert.Equal(t, ref.losses, got.losses, "order %d", order)
		assert.Equal(t, ref.w1, got.w1, "order %d", order)
		assert.Equal(t, ref.w2, got.w2, "order %d", order)
		assert.Equal(t, ref.stats.ByRole, got.stats.ByRole, "order %d", order)
		assert.Equal(t, ref.stats.Unmined, got.stats.Unmined, "order %d", order)
	}
	t.Logf("losses %.4f; %d products, %d mined, %d proofs", ref.losses, ref.stats.Products, ref.stats.Mined, ref.stats.Proofs)
}
