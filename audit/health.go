package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"ctpdesk/store"
)

// DefaultRecordTimeout is how long Record waits for its event to be committed unless the
// caller's deadline is nearer. A request refused for want of its audit record must say so
// well inside two seconds, even when the database is locked or stalled; a healthy commit
// takes milliseconds.
const DefaultRecordTimeout = time.Second

// failureHold is how long a failed commit keeps Ready failing. Commits fail only when there
// is traffic, so once the failures stop (or the traffic does, because the replica is out of
// the load balancer) Ready goes back to its trial append to decide.
const failureHold = 10 * time.Second

// Metrics receives one observation per batch commit: how many events it held, how long it
// took and whether it failed. *metrics.Metrics implements it.
type Metrics interface {
	ObserveAuditCommit(batch int, d time.Duration, err error)
}

// nopMetrics observes nothing.
type nopMetrics struct{}

func (nopMetrics) ObserveAuditCommit(int, time.Duration, error) {}

// commitHealth remembers the outcome of the latest commit, for Ready.
type commitHealth struct {
	mu       sync.Mutex
	err      error
	failedAt time.Time
}

// setFailureDefaults fills the options that bound how a failing database is felt.
func (o *Options) setFailureDefaults() error {
	if o.RecordTimeout < 0 {
		return errors.New("audit: new: negative option")
	}
	if o.RecordTimeout == 0 {
		o.RecordTimeout = DefaultRecordTimeout
	}
	if o.Metrics == nil {
		o.Metrics = nopMetrics{}
	}
	return nil
}

// commitContext bounds one batch commit: no longer than CommitTimeout, and no longer than the
// last of its callers waits (each Record waits at most RecordTimeout). A commit nobody waits
// for any more would only hold the write lock against the next batch.
func (t *Trail) commitContext(batch []*pending) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(t.opts.CommitTimeout)
	latest, all := time.Time{}, true
	for _, p := range batch {
		d, ok := p.ctx.Deadline()
		if !ok {
			all = false
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if all && !latest.IsZero() && latest.Before(deadline) {
		deadline = latest
	}
	return context.WithDeadline(context.Background(), deadline)
}

// committed records the outcome of one batch commit for the metrics and for Ready.
func (t *Trail) committed(events int, took time.Duration, err error) {
	t.opts.Metrics.ObserveAuditCommit(events, took, err)
	h := &t.health
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
	if err != nil {
		h.failedAt = t.opts.Now()
	}
}

// Ready reports whether the trail can commit events now, for /readyz. It fails while the
// latest commit failed (for up to failureHold), and otherwise tries an append of one event of
// ordinary size that it rolls back, so a database that stopped taking writes (locked,
// read-only, full) is seen even before a request fails on it. It waits at most RecordTimeout.
func (t *Trail) Ready(ctx context.Context) error {
	h := &t.health
	h.mu.Lock()
	err, at := h.err, h.failedAt
	h.mu.Unlock()
	if err != nil && t.opts.Now().Sub(at) < failureHold {
		return fmt.Errorf("audit: ready: the latest commit failed: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.RecordTimeout)
	defer cancel()
	if err := t.trialAppend(ctx); err != nil {
		return fmt.Errorf("audit: ready: %w: %w", ErrUnavailable, store.Classify(err))
	}
	return nil
}

// trialAppend does what an append of one event does (lock the head, insert the event, move
// the head) and rolls it all back.
func (t *Trail) trialAppend(ctx context.Context) error {
	tx, err := t.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	h, err := lockHead(ctx, t.db, tx)
	if err != nil {
		return err
	}
	// Sized like a real event (an actor, a user agent, a request id, details), so a full
	// database refuses it as it would refuse the next real one.
	probe := &Event{
		Seq:       h.seq + 1,
		Time:      t.opts.Now(),
		Actor:     Actor{Issuer: "https://readiness.invalid/" + strings.Repeat("i", 40), Subject: strings.Repeat("s", 40), Name: strings.Repeat("n", 40), Roles: []string{"agent"}},
		Action:    ActionCustomerView,
		Outcome:   Success,
		Details:   map[string]string{"probe": strings.Repeat("d", 60)},
		ClientIP:  "192.0.2.1",
		UserAgent: strings.Repeat("u", 120),
		RequestID: strings.Repeat("r", 26),
		PrevHash:  h.hash,
		Hash:      strings.Repeat("0", 64),
	}
	if err := t.insertEvents(ctx, tx, []*Event{probe}); err != nil {
		return err
	}
	return t.writeHead(ctx, tx, probe.Seq, probe.Hash, h.checkpointN)
}
