package receipt_test

import (
	"fmt"
	"math/rand/v2"
	"os"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/usefulwork/minedmatmul/op"
	"github.com/usefulwork/minedmatmul/pouw"
	"github.com/usefulwork/minedmatmul/train"
	"github.com/usefulwork/minedmatmul/train/receipt"
)

// blobs is a two-class data set of 64 features.
type blobs struct{ n int }

func (b blobs) Len() int { return b.n }

func (b blobs) Fill(i int, x []float32) int {
	c := i % 2
	if x != nil {
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		for j := range x {
			x[j] = float32(2*c-1) + float32(rng.NormFloat64())
		}
	}
	return c
}

// A run writes its receipt as it trains; Audit then checks the chain, the
// proofs against the recorded products, and the checkpoints against the
// recorded weight operands.
func ExampleAudit() {
	dir, _ := os.MkdirTemp("", "receipt")
	defer os.RemoveAll(dir)

	rc, _ := receipt.Create(dir)
	proofs, _ := pouw.NewProofWriter(dir, nil)
	miner, _ := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(1<<12, 32)),
		OnProof: proofs.OnProof, OnMined: rc.Mined})

	const batch = 32
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 64), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(batch, 2), gorgonia.WithName("y"))
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithName("w"),
		gorgonia.WithValue(train.HeNormal(rand.New(rand.NewPCG(1, 1)), 64, 64, 2)))
	logits, _ := op.Mul(miner, x, w)
	loss, _ := train.CrossEntropy(logits, y)
	gorgonia.Grad(loss, w)
	m := &train.Model{Name: "logistic", Graph: g, X: x, Y: y, Output: logits, Loss: loss, Learnables: gorgonia.Nodes{w}}

	model, _ := receipt.Describe(m.Name, g, x, m.Learnables)
	rc.Start(receipt.NewRun(model, receipt.Dataset{Name: "blobs"}, batch, map[string]uint64{"weights": 1}, miner))
	train.Run(m, blobs{256}, blobs{64}, train.Options{Epochs: 1, Solver: gorgonia.NewVanillaSolver(),
		Miner: miner, Receipt: rc, Proofs: proofs})
	proofs.Close()

	rep, err := receipt.Audit(dir, receipt.AuditOptions{}) // no dataset opener: inputs unchecked
	fmt.Println("audit error:", err)
	fmt.Println("steps:", len(rep.Receipt.Steps), "checkpoints:", rep.Checkpoints)
	fmt.Println("every proof is a recorded product:", rep.Proofs > 0 && rep.Proofs == len(proofs.Written()))
	// Output:
	// audit error: <nil>
	// steps: 8 checkpoints: 2
	// every proof is a recorded product: true
}
