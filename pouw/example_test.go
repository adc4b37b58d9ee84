package pouw_test

import (
	"fmt"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Mine one product with a development job, and verify what it finds.
func Example() {
	var proofs []*pouw.Proof
	miner, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(pouw.NbitsForExpectedMACs(1e5)), // about one proof per 100k MACs
		Profile: pouw.Local,
		OnProof: func(f pouw.Found) { proofs = append(proofs, f.Proof) },
	})
	if err != nil {
		panic(err)
	}
	// A (64×128) and Bᵀ (64×128) with int7 entries.
	a := pouw.Matrix{Rows: 64, Cols: 128, Data: make([]int8, 64*128)}
	bt := pouw.Matrix{Rows: 64, Cols: 128, Data: make([]int8, 64*128)}
	for i := range a.Data {
		a.Data[i] = int8(i%129 - 64)
		bt.Data[i] = int8((7*i)%129 - 64)
	}
	p, err := miner.MatMul(a, bt, pouw.Tag{Role: "forward"})
	if err != nil {
		panic(err)
	}
	fmt.Println("mined:", p.Mined, "tiles:", len(p.Tickets))
	for _, proof := range proofs {
		v, err := proof.Verify(pouw.VerifyOptions{})
		fmt.Println("proof valid:", err == nil && v.Win)
		break
	}
	// Output:
	// mined: true tiles: 16
	// proof valid: true
}
