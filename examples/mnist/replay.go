package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/mnist"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

// replay checks a receipt by recomputing it: it rebuilds the model from the
// recorded flags, loads the checkpoint before each of up to samples steps,
// replays the step (forward and backward) and checks that every product
// mined gives the recorded shape and commitment roots, and the loss the
// recorded loss, bit for bit; then it evaluates the final checkpoint and
// checks the recorded test accuracy. pouw audit checks what needs no model;
// this checks the rest.
func replay(dir, dataDir string, samples int, stdout, stderr io.Writer) error {
	start := time.Now()
	r, err := receipt.Open(dir)
	if err != nil {
		return err
	}
	c, err := parseFlags(r.Run.Program, io.Discard)
	if err != nil {
		return fmt.Errorf("the receipt's program flags %q: %w", r.Run.Program, err)
	}
	if dataDir == "" {
		dataDir = c.dataDir
	}
	if dataDir == "" {
		if dataDir, err = mnist.DefaultDir(); err != nil {
			return err
		}
	}
	trainSet, testSet, err := openMNIST(dataDir, r.Run.Dataset)
	if err != nil {
		return err
	}
	if len(r.Products) == 0 {
		return fmt.Errorf("%s: the receipt records no mined product to replay", dir)
	}
	profile, err := pouw.ParseProfile(r.Run.Profile)
	if err != nil {
		return err
	}
	var got []receipt.Product
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.StaticJob{J: r.Products[0].Job}, Profile: profile,
		OnMined: func(p pouw.MinedProduct) {
			got = append(got, receipt.Product{Node: p.Tag.Node, Role: p.Tag.Role, M: p.M, K: p.K, N: p.N,
				RootA: hex.EncodeToString(p.RootA[:]), RootB: hex.EncodeToString(p.RootB[:])})
		}})
	if err != nil {
		return err
	}
	m, err := buildModel(c, miner, io.Discard)
	if err != nil {
		return err
	}
	desc, err := receipt.Describe(m.Name, m.Graph, m.X, m.Learnables)
	if err != nil {
		return err
	}
	if desc.Digest != r.Run.Model.Digest {
		return fmt.Errorf("the model rebuilt from the recorded flags has digest %.16s…, the receipt's is %.16s…: another program or version", desc.Digest, r.Run.Model.Digest)
	}
	t, err := train.NewTrainer(m)
	if err != nil {
		return err
	}
	defer t.Close()
	setWeights := func(cp receipt.Checkpoint) error {
		params, err := r.LoadCheckpoint(cp)
		if err != nil {
			return err
		}
		values := map[string]*tensor.Dense{}
		for _, p := range params {
			values[p.Name] = p.Value
		}
		for _, l := range m.Learnables {
			v, ok := values[l.Name()]
			dst, ok2 := l.Value().(*tensor.Dense)
			if !ok || !ok2 || !v.Shape().Eq(dst.Shape()) || v.Dtype() != dst.Dtype() {
				return fmt.Errorf("checkpoint %s has no %s of shape %v", cp.File, l.Name(), l.Shape())
			}
			if err := tensor.Copy(dst, v); err != nil {
				return fmt.Errorf("%s: %w", l.Name(), err)
			}
		}
		return nil
	}

	// The steps that can be replayed: the first after each checkpoint.
	var candidates []struct {
		cp   receipt.Checkpoint
		step receipt.Step
	}
	for _, cp := range r.Checkpoints {
		if s, ok := r.Step(cp.Weights + 1); ok && s.Weights == cp.Weights {
			candidates = append(candidates, struct {
				cp   receipt.Checkpoint
				step receipt.Step
			}{cp, *s})
		}
	}
	if len(candidates) == 0 {
		return fmt.Errorf("%s: no step follows a checkpoint: nothing to replay", dir)
	}
	n := min(samples, len(candidates))
	var failures []string
	products := 0
	for i := range n {
		j := 0
		if n > 1 {
			j = i * (len(candidates) - 1) / (n - 1)
		}
		cand := candidates[j]
		s := cand.step
		if err := setWeights(cand.cp); err != nil {
			return err
		}
		idx, err := s.Indices()
		if err != nil {
			return err
		}
		miner.SetStep(s.Step)
		got = got[:0]
		loss, err := t.Step(trainSet, idx)
		if err != nil {
			return fmt.Errorf("step %d: %w", s.Step, err)
		}
		var want []receipt.Product
		for _, p := range r.Products {
			if p.Step == s.Step && !p.Eval && p.Weights == s.Weights {
				want = append(want, receipt.Product{Node: p.Node, Role: p.Role, M: p.M, K: p.K, N: p.N, RootA: p.RootA, RootB: p.RootB})
			}
		}
		missing, extra := diffProducts(want, got)
		for _, p := range missing {
			failures = append(failures, fmt.Sprintf("step %d: recorded product %s %s %dx%dx%d (roots %.16s…, %.16s…) not reproduced", s.Step, p.Node, p.Role, p.M, p.K, p.N, p.RootA, p.RootB))
		}
		for _, p := range extra {
			failures = append(failures, fmt.Sprintf("step %d: replayed product %s %s %dx%dx%d (roots %.16s…, %.16s…) not in the receipt", s.Step, p.Node, p.Role, p.M, p.K, p.N, p.RootA, p.RootB))
		}
		if loss != s.Loss {
			failures = append(failures, fmt.Sprintf("step %d: loss %v, the receipt says %v", s.Step, loss, s.Loss))
		}
		products += len(want)
		fmt.Fprintf(stdout, "step %-6d %d products, forward and backward, reproduced bit for bit from checkpoint %s\n", s.Step, len(want), cand.cp.File)
	}

	if r.End != nil {
		last := r.Checkpoints[len(r.Checkpoints)-1]
		if last.Weights != r.End.Weights {
			failures = append(failures, fmt.Sprintf("the last checkpoint has weights version %d, the run ended at %d", last.Weights, r.End.Weights))
		} else {
			if err := setWeights(last); err != nil {
				return err
			}
			acc, err := t.Accuracy(testSet)
			if err != nil {
				return err
			}
			if acc != r.End.TestAccuracy {
				failures = append(failures, fmt.Sprintf("test accuracy of the final weights is %.4f %%, the receipt says %.4f %%", 100*acc, 100*r.End.TestAccuracy))
			} else {
				fmt.Fprintf(stdout, "accuracy   %.2f %% on %d test images from %s, as recorded\n", 100*acc, testSet.Len(), last.File)
			}
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(stderr, "FAIL  %s\n", strings.Join(failures, "\nFAIL  "))
		return fmt.Errorf("%w: %d check(s) of %s failed", errAudit, len(failures), dir)
	}
	fmt.Fprintf(stdout, "OK    %d steps replayed, %d products reproduced, in %s\n", n, products, time.Since(start).Round(time.Millisecond))
	return nil
}

// diffProducts compares two multisets of products.
func diffProducts(want, got []receipt.Product) (missing, extra []receipt.Product) {
	key := func(p receipt.Product) string {
		return fmt.Sprintf("%s|%s|%d|%d|%d|%s|%s", p.Node, p.Role, p.M, p.K, p.N, p.RootA, p.RootB)
	}
	count := map[string]int{}
	for _, p := range got {
		count[key(p)]++
	}
	for _, p := range want {
		if count[key(p)] > 0 {
			count[key(p)]--
		} else {
			missing = append(missing, p)
		}
	}
	for _, p := range got {
		if count[key(p)] > 0 {
			count[key(p)]--
			extra = append(extra, p)
		}
	}
	slices.SortFunc(extra, func(a, b receipt.Product) int { return strings.Compare(key(a), key(b)) })
	return missing, extra
}
