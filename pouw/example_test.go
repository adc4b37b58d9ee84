package pouw_test

import (
	"fmt"

	"github.com/usefulwork/minedmatmul/pouw"
)

// operands returns A (m×k) and Bᵀ (n×k) with int7 entries.
func operands(m, k, n int) (a, bt pouw.Matrix) {
	a = pouw.Matrix{Rows: m, Cols: k, Data: make([]int8, m*k)}
	bt = pouw.Matrix{Rows: n, Cols: k, Data: make([]int8, n*k)}
	for i := range a.Data {
		a.Data[i] = int8(i%129 - 64)
	}
	for i := range bt.Data {
		bt.Data[i] = int8((7*i)%129 - 64)
	}
	return a, bt
}

// Mine one product with a development job, and verify what it finds.
func Example() {
	var proofs []*pouw.Proof
	miner, err := pouw.NewMiner(pouw.MinerConfig{
		Jobs:    pouw.DevJob(pouw.Local.Nbits(1e5, 32)), // about one proof per 100k MACs
		Profile: pouw.Local,
		OnProof: func(f pouw.Found) { proofs = append(proofs, f.Proof) },
	})
	if err != nil {
		panic(err)
	}
	a, bt := operands(64, 128, 64)
	p, err := miner.MatMul(a, bt, pouw.Tag{Role: "forward"})
	if err != nil {
		panic(err)
	}
	fmt.Println("mined:", p.Mined, "tiles:", p.Tiles, "wins:", len(p.Wins))
	valid := 0
	for _, proof := range proofs {
		if v, err := proof.Verify(pouw.VerifyOptions{}); err == nil && v.Win {
			valid++
		}
	}
	fmt.Println("valid proofs:", valid)
	// Output:
	// mined: true tiles: 16 wins: 6
	// valid proofs: 6
}

// A verifier needs only the job, the profile and the plain proof; it
// recomputes the ticket of the one tile the proof opens.
func ExampleVerify() {
	a, bt := operands(32, 64, 32)
	rows, _ := pouw.Contiguous(4)
	cols, _ := pouw.Contiguous(4)
	cfg := pouw.Config{K: 64, Rank: 32, Rows: rows, Cols: cols}
	job := pouw.DevJob(pouw.Local.Nbits(4*4*64*4, 32)).J // one tile in four wins
	p, err := pouw.MineProduct(job, pouw.Local, cfg, a, bt)
	if err != nil {
		panic(err)
	}
	fmt.Println("tiles:", p.Tiles, "wins:", len(p.Wins))
	win := p.Wins[0]
	v, err := pouw.Verify(job, pouw.Local, win.Proof.Plain, pouw.VerifyOptions{})
	fmt.Println(err, v.Win, v.Ticket == win.Ticket, v.Config)

	// The same proof against a harder target: everything checks out but
	// the ticket is above the bound.
	_, err = pouw.Verify(job, pouw.Local, win.Proof.Plain, pouw.VerifyOptions{NbitsOverride: 0x1d00ffff})
	fmt.Println(pouw.CodeOf(err))
	// And relabelled as a legacy job, it is not what a verifier expects.
	job.CertVersion = pouw.CertV2
	_, err = pouw.Verify(job, pouw.Local, win.Proof.Plain, pouw.VerifyOptions{})
	fmt.Println(pouw.CodeOf(err))
	// Output:
	// tiles: 64 wins: 15
	// <nil> true true k=64 r=32 tile=4x4
	// ErrHighHash
	// ErrCertVersion
}

// A proof file has exactly one encoding: what MarshalJSON writes, ParseProof
// reads back to the same bytes, and anything looser is refused.
func ExampleParseProof() {
	a, bt := operands(16, 64, 16)
	rows, _ := pouw.Contiguous(2)
	cfg := pouw.Config{K: 64, Rank: 32, Rows: rows, Cols: rows}
	job := pouw.DevJob(0x207fffff).J // every tile wins
	p, err := pouw.MineProduct(job, pouw.Local, cfg, a, bt)
	if err != nil {
		panic(err)
	}
	proof := p.Wins[0].Proof
	proof.Meta = map[string]any{"role": "forward"}
	data, err := proof.MarshalJSON()
	if err != nil {
		panic(err)
	}
	back, err := pouw.ParseProof(data)
	if err != nil {
		panic(err)
	}
	again, _ := back.MarshalJSON()
	fmt.Println(string(again) == string(data), back.Profile, back.Meta["role"])
	_, err = back.Verify(pouw.VerifyOptions{})
	fmt.Println(err)

	_, err = pouw.ParseProof([]byte(`{"PLAIN_PROOF": "AA=="}`))
	fmt.Println(err)
	// Output:
	// true local forward
	// <nil>
	// ErrBadEncoding: proof: key "PLAIN_PROOF": keys are case-sensitive, want "plain_proof"
}

// A miner computes every product exactly; it mines those whose shape its
// profile admits, and says why it did not mine the others.
func ExampleMiner_MatMul() {
	miner, err := pouw.NewMiner(pouw.MinerConfig{Jobs: pouw.DevJob(pouw.Local.Nbits(1e6, 32))})
	if err != nil {
		panic(err)
	}
	a, bt := operands(64, 128, 48)
	p, err := miner.MatMul(a, bt, pouw.Tag{Role: "forward", Node: "fc1"})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Mined, p.Config, p.Tiles, p.MACs)
	fmt.Println(p.C[0], p.C[len(p.C)-1])

	// A matrix × vector product has no room for a tile.
	v := pouw.Matrix{Rows: 1, Cols: 128, Data: bt.Data[:128]}
	p, err = miner.MatMul(a, v, pouw.Tag{Role: "forward", Node: "fc2"})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Mined, pouw.CodeOf(p.Reason), len(p.C))
	fmt.Println(miner.Stats().WorkShare())
	// Output:
	// true k=128 r=32 tile=16x16 12 393216
	// 23077 3066
	// false ErrTile 64
	// mined 1 of 2 products, 98.0% of 4.01e+05 MACs in the lottery
	// unmined 1: 0 paused, 1 ineligible
	//   1  ErrTile 64x128x1
}

// The default policy picks the profile's smallest rank and the largest
// contiguous tile up to 16×16 that fits; shapes the profile refuses are
// computed unmined, with the rule that refused them.
func ExampleDefaultPolicy() {
	for _, s := range []struct {
		profile pouw.Profile
		m, k, n int
	}{
		{pouw.Local, 128, 784, 512},
		{pouw.Local, 100, 784, 10},
		{pouw.Pearl, 4096, 4096, 4096},
		{pouw.Pearl, 128, 784, 128},
		{pouw.Local, 64, 784, 1},
	} {
		cfg, err := pouw.DefaultPolicy{}.Choose(s.profile, s.m, s.k, s.n)
		if err != nil {
			fmt.Printf("%s %dx%dx%d: %v\n", s.profile, s.m, s.k, s.n, pouw.CodeOf(err))
			continue
		}
		fmt.Printf("%s %dx%dx%d: %s\n", s.profile, s.m, s.k, s.n, cfg)
	}
	// Output:
	// local 128x784x512: k=784 r=32 tile=16x16
	// local 100x784x10: k=784 r=32 tile=16x10
	// pearl 4096x4096x4096: k=4096 r=128 tile=16x16
	// pearl 128x784x128: ErrInnerDim
	// local 64x784x1: ErrTile
}
