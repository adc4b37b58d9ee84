package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

// trainWithReceipt trains a small MLP on 400 MNIST images through the
// train package's loop, with a receipt, into a fresh directory: what any
// program using train.Run leaves for pouw audit.
func trainWithReceipt(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	rc, err := receipt.Create(dir)
	require.NoError(t, err)
	proofs, err := pouw.NewProofWriter(dir, nil)
	require.NoError(t, err)
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(1e7, 32)), OnProof: proofs.OnProof, OnMined: rc.Mined})
	require.NoError(t, err)

	const batch, hidden = 50, 32
	rng := rand.New(rand.NewPCG(1, 1))
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 784), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 10), gorgonia.WithName("y"))
	w1 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w1"), gorgonia.WithValue(train.HeNormal(rng, 784, 784, hidden)))
	w2 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w2"), gorgonia.WithValue(train.HeNormal(rng, hidden, hidden, 10)))
	h, err := op.Mul(miner, x, w1)
	require.NoError(t, err)
	logits, err := op.Mul(miner, gorgonia.Must(gorgonia.Rectify(h)), w2)
	require.NoError(t, err)
	loss, err := train.CrossEntropy(logits, y)
	require.NoError(t, err)
	_, err = gorgonia.Grad(loss, w1, w2)
	require.NoError(t, err)
	m := &train.Model{Name: "test mlp", Graph: g, X: x, Y: y, Output: logits, Loss: loss, Learnables: gorgonia.Nodes{w1, w2}}

	data, err := mnist.DefaultDir()
	require.NoError(t, err)
	trainSet, testSet, err := mnist.Load(data)
	require.NoError(t, err)
	trainSet, testSet = trainSet.Subset(400), testSet.Subset(100)
	ds := receipt.Dataset{Name: "mnist", Transform: mnist.Transform, Train: trainSet.Len(), Test: testSet.Len()}
	for _, name := range []string{mnist.TrainImages, mnist.TrainLabels, mnist.TestImages, mnist.TestLabels} {
		f, err := receipt.HashFile(filepath.Join(data, name))
		require.NoError(t, err)
		ds.Files = append(ds.Files, f)
	}
	model, err := receipt.Describe(m.Name, g, x, m.Learnables)
	require.NoError(t, err)
	require.NoError(t, rc.Start(receipt.NewRun(model, ds, batch, map[string]uint64{"weights": 1}, miner)))
	_, _, err = train.Run(m, trainSet, testSet, train.Options{Epochs: 1, Solver: gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.1)),
		Miner: miner, Receipt: rc, CheckpointEvery: 4, Proofs: proofs})
	require.NoError(t, err)
	require.NoError(t, proofs.Close())
	return dir
}

func TestAudit(t *testing.T) {
	dir := trainWithReceipt(t)
	var stdout, stderr bytes.Buffer
	code := run(&stdout, &stderr, []string{"audit", dir})
	require.Equal(t, exitOK, code, "%s%s", stdout.String(), stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "8 steps")
	assert.Contains(t, out, "checkpoints  3 match their hashes")
	assert.Contains(t, out, "inputs       5 steps: 10 first-layer operands rebuilt from mnist")
	assert.Regexp(t, `\nOK    in `, out)

	// A removed record fails the audit, named by its line; nothing
	// printed carries a control character from the receipt.
	b, err := os.ReadFile(filepath.Join(dir, receipt.FileName))
	require.NoError(t, err)
	ls := strings.Split(string(b), "\n")
	ls[3] = strings.Replace(ls[3], `"kind":"`, `"kind":"\u001b[2K`, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, receipt.FileName), []byte(strings.Join(append(ls[:2:2], ls[3:]...), "\n")), 0o644))
	stdout.Reset()
	code = run(&stdout, &stderr, []string{"audit", dir})
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stdout.String(), "FAIL  receipt "+filepath.Join(dir, receipt.FileName)+" line 3")
	assert.NotContains(t, stdout.String(), "\x1b")

	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, exitUsage, run(&stdout, &stderr, []string{"audit"}))
	assert.Contains(t, stderr.String(), "Usage: pouw audit")
}
