package pouw

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errGatewayClosing is Submit's answer once Close has begun.
var errGatewayClosing = errors.New("pearl gateway: closing, proof kept on disk but not queued")

// Submit keeps p and queues it for submitPlainProof. It writes p to
// ProofDir first (WriteProofFile: atomic), so the proof survives a dead
// gateway, a full queue or a crash, then queues it without waiting. It
// never touches the network. The error reports a proof that could not be
// written (it is queued all the same) or was not queued (queue full, or
// Close begun; the file stays); both are also counted in Stats.
func (g *Gateway) Submit(p *Proof) error {
	id, err := p.ID()
	if err != nil {
		return fmt.Errorf("pearl gateway: submit: %w", err)
	}
	path, werr := WriteProofFile(g.opts.ProofDir, p)
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	s := &g.stats
	if werr != nil {
		path = ""
		s.SaveErrors++
		s.LastError, s.LastErrorTime = "save proof: "+werr.Error(), now
		werr = fmt.Errorf("pearl gateway: save proof %s: %w", id, werr)
	} else {
		s.Saved++
	}
	if p.Profile != Pearl {
		// Pearl's gateway rejects ranks below 128 and judges every proof
		// by the rank-penalised bound: a local-profile proof would be
		// wasted there.
		s.NotPearl++
		return errors.Join(werr, fmt.Errorf("pearl gateway: proof %s is a %s-profile proof; only pearl-profile proofs are submitted (kept on disk)", id, p.Profile))
	}
	if g.seen[id] {
		// The same tile of the same product under the same job: one
		// submission is all it can ever be worth.
		s.Duplicates++
		return werr
	}
	g.seen[id] = true
	g.unsent[id] = path
	if g.closing {
		s.Dropped++
		return errors.Join(werr, errGatewayClosing)
	}
	select {
	case g.queue <- &queuedProof{proof: p, id: id, path: path}:
		s.Queued++
		s.Pending++
		return werr
	default:
		s.Dropped++
		g.logf("pearl gateway: submission queue full (%d), proof %s kept in %s only", cap(g.queue), id, g.opts.ProofDir)
		return fmt.Errorf("pearl gateway: submission queue full, proof %s kept on disk only", id)
	}
}

// OnProof submits a found proof; use it as MinerConfig.OnProof. Failures
// are counted in Stats, not returned: the miner must not stop for them.
func (g *Gateway) OnProof(f Found) { _ = g.Submit(f.Proof) }

func (g *Gateway) submitLoop() {
	defer close(g.submitDone)
	for q := range g.queue {
		if g.abortCtx.Err() != nil {
			g.abandon()
			continue
		}
		g.send(q)
	}
}

// send submits one proof, retrying transport failures and mining_paused
// with exponential backoff until it is accepted, rejected, stale, out of
// attempts or abandoned by Close.
func (g *Gateway) send(q *queuedProof) {
	backoff := g.opts.Backoff
	for attempt := 1; ; attempt++ {
		stale := g.isStale(q.proof.Job.Header)
		ctx, cancel := context.WithTimeout(g.abortCtx, g.opts.RequestTimeout)
		err := g.submitter.SubmitProof(ctx, q.proof)
		cancel()

		now := time.Now()
		g.mu.Lock()
		s := &g.stats
		if attempt == 1 {
			s.Submitted++
			if stale {
				s.Stale++
			}
		} else {
			s.Retries++
		}
		if err == nil {
			s.Accepted++
			s.Pending--
			delete(g.unsent, q.id)
			g.mu.Unlock()
			return
		}
		s.LastError, s.LastErrorTime = "submitPlainProof: "+err.Error(), now
		if g.abortCtx.Err() != nil {
			g.mu.Unlock()
			g.abandon()
			return
		}
		if !retryable(err) || stale || attempt >= g.opts.MaxAttempts {
			s.Failed++
			s.Pending--
			g.mu.Unlock()
			g.logf("pearl gateway: proof %s not submitted after %d attempt(s), kept in %s: %v", q.id, attempt, g.opts.ProofDir, err)
			return
		}
		g.mu.Unlock()

		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-g.abortCtx.Done():
			t.Stop()
			g.abandon()
			return
		}
		backoff = min(2*backoff, g.opts.MaxBackoff)
	}
}

// abandon gives up a pending proof because Close's deadline passed.
func (g *Gateway) abandon() {
	g.mu.Lock()
	g.stats.Pending--
	g.stats.Abandoned++
	g.mu.Unlock()
}

// isStale reports whether h is not the latest header the gateway gave.
func (g *Gateway) isStale(h Header) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.latest != nil && *g.latest != h
}

// retryable reports whether a failed submission may succeed if sent again:
// the gateway was unreachable or slow, or had no template for a moment.
// Anything it rejected (bad params, an undecodable proof) fails the same way
// every time.
func retryable(err error) bool {
	var ge *GatewayError
	if errors.As(err, &ge) {
		return ge.Code == GatewayMiningPaused
	}
	return errors.Is(err, errUnreachable)
}
