package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usefulwork/minedmatmul/pouw"
)

// Submit keeps p and queues it for submitPlainProof: the proof is queued
// for its file in ProofDir (written atomically off this goroutine), and the
// file, once written, for submission; a proof that could not be written is
// queued all the same. It never waits on the disk or the network. The
// error reports a proof that was not queued (seen before, the writer's
// queue full, or Close begun); every outcome is also counted in Stats.
func (g *Client) Submit(p *pouw.Proof) error {
	id, err := p.ID()
	if err != nil {
		return fmt.Errorf("pearl gateway: submit: %w", err)
	}
	g.mu.Lock()
	if g.seen[id] {
		// The same tile of the same product under the same job: one
		// submission is all it can ever be worth.
		g.stats.Duplicates++
		g.mu.Unlock()
		return nil
	}
	g.seen[id] = true
	g.unsent[id] = ""
	g.mu.Unlock()
	if err := g.writer.Write(p); err != nil {
		g.mu.Lock()
		g.stats.Dropped++
		g.mu.Unlock()
		return fmt.Errorf("pearl gateway: proof %s not kept: %w", id, err)
	}
	return nil
}

// OnProof submits a found proof; use it as pouw.MinerConfig.OnProof.
// Failures are counted in Stats, not returned: the miner must not stop for
// them.
func (g *Client) OnProof(f pouw.Found) { _ = g.Submit(f.Proof) }

// written runs on the proof writer's goroutine once p is on disk (at path)
// or could not be written (err): it queues p for submission.
func (g *Client) written(p *pouw.Proof, path string, werr error) {
	id, _ := p.ID() // Submit computed it already
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	s := &g.stats
	if werr != nil {
		s.SaveErrors++
		s.LastError, s.LastErrorTime = "save proof: "+werr.Error(), now
		g.logf("pearl gateway: proof %s not saved: %v", id, werr)
	} else {
		s.Saved++
		g.unsent[id] = path
	}
	if g.closing {
		s.Dropped++
		return
	}
	select {
	case g.queue <- &queuedProof{proof: p, id: id, path: path}:
		s.Queued++
		s.Pending++
	default:
		s.Dropped++
		g.logf("pearl gateway: submission queue full (%d), proof %s kept in %s only", cap(g.queue), id, g.opts.ProofDir)
	}
}

func (g *Client) submitLoop() {
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
func (g *Client) send(q *queuedProof) {
	backoff := g.opts.Backoff
	for attempt := 1; ; attempt++ {
		stale := g.isStale(q.proof.Job.Header)
		ctx, cancel := context.WithTimeout(g.abortCtx, g.opts.RequestTimeout)
		err := g.submitter.Submit(ctx, q.proof)
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
		s.LastError, s.LastErrorTime = clean(err.Error()), now
		if g.abortCtx.Err() != nil {
			g.mu.Unlock()
			g.abandon()
			return
		}
		switch {
		case errors.Is(err, ErrNotPearl):
			s.NotPearl++
			s.Pending--
			g.mu.Unlock()
			return
		case errors.Is(err, ErrLineTooLong) && !errors.Is(err, ErrUnreachable):
			// Our request, not an over-long answer (a broken connection).
			s.TooLarge++
			s.Pending--
			g.mu.Unlock()
			g.logf("pearl gateway: proof %s kept in %s, not sent: %v (raise Options.MaxRequest if the gateway reads longer lines)", q.id, g.opts.ProofDir, err)
			return
		case !retryable(err) || stale || attempt >= g.opts.MaxAttempts:
			s.Failed++
			s.Pending--
			g.mu.Unlock()
			g.logf("pearl gateway: proof %s not submitted after %d attempt(s), kept in %s: %s", q.id, attempt, g.opts.ProofDir, clean(err.Error()))
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
func (g *Client) abandon() {
	g.mu.Lock()
	g.stats.Pending--
	g.stats.Abandoned++
	g.mu.Unlock()
}

// isStale reports whether h is not the latest header the gateway gave.
func (g *Client) isStale(h pouw.Header) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.latest != nil && *g.latest != h
}

// retryable reports whether a failed submission may succeed if sent again:
// the gateway was unreachable or slow, or had no template for a moment.
// Anything it rejected (bad params, an undecodable proof) fails the same way
// every time.
func retryable(err error) bool {
	var ge *Error
	if errors.As(err, &ge) {
		// A full submission queue (pearl-gateway with a bounded queue)
		// empties as the gateway proves: like a pause, it passes.
		return ge.Code == CodeMiningPaused || ge.Code == CodeServerError && strings.Contains(ge.Message, "queue full")
	}
	return errors.Is(err, ErrUnreachable)
}
