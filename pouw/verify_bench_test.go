package pouw

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkVerify is the time to verify one proof: a 16×16 tile, k = 1024
// (target ≤ 1 ms). The proof opens tile (0, 0) of a 256×1024·1024×256
// product and is checked against the easiest target, so it is accepted.
func BenchmarkVerify(b *testing.B) {
	for _, s := range []struct {
		name    string
		profile Profile
		k, r    int
	}{
		{"local/16x16/k=1024/r=32", Local, 1024, 32},
		{"pearl/16x16/k=2048/r=128", Pearl, 2048, 128},
	} {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			cfg := contiguousConfig(b, s.k, s.r, 16, 16)
			a, bt := randInt7(rng, 256, s.k), randInt7(rng, 256, s.k)
			job := testJob(b, cfg)
			key := JobKey(job.Header, cfg)
			proof, err := buildPlainProof(&key, a, bt, cfg, indexRange(16), indexRange(16))
			if err != nil {
				b.Fatal(err)
			}
			opts := VerifyOptions{NbitsOverride: 0x207fffff}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Verify(job, s.profile, proof, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
