package pouw

import (
	"errors"

	"lukechampine.com/blake3"
)

// ErrPaused is returned (wrapped) by a JobSource that has no job to give:
// the gateway said mining_paused, or it cannot be reached. The miner then
// computes products exactly and unmined, and counts them as paused.
var ErrPaused = errors.New("mining paused")

// JobSource supplies the job to mine. Implementations must be safe for
// concurrent use; CurrentJob is called once per product, so it must not block
// on the network.
type JobSource interface {
	CurrentJob() (Job, error)
}

// StaticJob is a JobSource that always returns the same job.
type StaticJob struct{ J Job }

// CurrentJob returns the job.
func (s StaticJob) CurrentJob() (Job, error) { return s.J, nil }

// DevJob is a development job source: a fixed header (version 1, a
// previous-block hash that names it a development job, time 0) carrying
// nbits, under certificate version 3. Its proofs verify like any other but
// belong to no chain.
func DevJob(nbits uint32) StaticJob {
	return StaticJob{J: Job{
		Header: Header{
			Version:   1,
			PrevBlock: blake3.Sum256([]byte("minedmatmul/dev-job")),
			Bits:      nbits,
		},
		CertVersion: CertSalted,
	}}
}
