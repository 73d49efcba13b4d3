package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStatusPending is returned by Status while the first full verification is still running.
var ErrStatusPending = errors.New("audit: chain verification in progress")

// statusWait is how long Status waits for a full verification it started before answering
// that it is still running.
const statusWait = 2 * time.Second

// statusCache keeps the latest verification, so the auditors' page does not walk the whole
// chain on every load.
type statusCache struct {
	mu     sync.Mutex
	report VerifyReport
	upTo   verified
	have   bool
	fullAt time.Time
	// full is closed when the full verification in flight ends; nil when none runs.
	full chan struct{}
}

// Status returns a verification report at most StatusMaxAge old. Between full verifications
// (every StatusFullEvery, and whenever the last report was not clean) it checks only the events
// appended since the last verified one, plus every seal, which keeps it fast on a large trail;
// `ctpdesk audit verify` always walks everything. A full verification runs in the background:
// callers wait for it up to a short bound, then get the previous report, or ErrStatusPending
// when there is none yet.
func (t *Trail) Status(ctx context.Context) (VerifyReport, error) {
	c := &t.status
	now := t.opts.Now()
	c.mu.Lock()
	if c.have && now.Sub(c.report.CheckedAt) < t.opts.StatusMaxAge {
		defer c.mu.Unlock()
		return c.report, nil
	}
	needFull := !c.have || !c.report.OK() || now.Sub(c.fullAt) >= t.opts.StatusFullEvery
	if !needFull {
		from := c.upTo
		c.mu.Unlock()
		wl, err := t.readWitness(ctx)
		if err != nil {
			return VerifyReport{}, fmt.Errorf("audit: status: %w", err)
		}
		rep, upTo, err := t.verify(ctx, &from, wl)
		if err != nil {
			return VerifyReport{}, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if rep.LastSeq >= c.report.LastSeq {
			c.report, c.upTo = rep, upTo
		}
		return rep, nil
	}
	if c.full == nil {
		c.full = make(chan struct{})
		go t.fullStatus(c.full)
	}
	done, have, last := c.full, c.have, c.report
	c.mu.Unlock()
	timer := time.NewTimer(statusWait)
	defer timer.Stop()
	select {
	case <-done:
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.have {
			return VerifyReport{}, fmt.Errorf("audit: status: the verification failed")
		}
		return c.report, nil
	case <-timer.C:
	case <-ctx.Done():
	}
	if have {
		return last, nil
	}
	return VerifyReport{}, ErrStatusPending
}

// fullStatus runs one full verification for Status, detached from any request.
func (t *Trail) fullStatus(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	wl, err := t.readWitness(ctx)
	var rep VerifyReport
	var upTo verified
	if err == nil {
		rep, upTo, err = t.verify(ctx, nil, wl)
	}
	c := &t.status
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		t.opts.Logger.Error("audit: chain verification failed to run", "err", err)
	} else {
		c.report, c.upTo, c.have, c.fullAt = rep, upTo, true, rep.CheckedAt
	}
	c.full = nil
	close(done)
}
