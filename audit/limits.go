package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Limit caps how many successful events of one action one actor (issuer and subject) may have
// within a sliding window: at most Max events in any Window. An event that carries limits is
// appended only while its actor is under every one of them (see Event.Limits).
type Limit struct {
	Max    int
	Window time.Duration
}

// Bounds of a Limit. The window is whole seconds, so the stored limit reads the same however
// it was written, and at most a month: a longer window is a quota, not a rate.
const (
	MaxLimitCount  = 100_000
	MaxLimitWindow = 31 * 24 * time.Hour
)

// String writes the limit as the trail records it: "5/60s" is five events in any 60 seconds.
func (l Limit) String() string {
	return strconv.Itoa(l.Max) + "/" + strconv.FormatInt(int64(l.Window/time.Second), 10) + "s"
}

func (l Limit) validate() error {
	switch {
	case l.Max < 1 || l.Max > MaxLimitCount:
		return fmt.Errorf("%w: limit of %d events, want 1 to %d", ErrInvalidEvent, l.Max, MaxLimitCount)
	case l.Window < time.Second || l.Window > MaxLimitWindow || l.Window%time.Second != 0:
		return fmt.Errorf("%w: limit window %s, want whole seconds up to %s", ErrInvalidEvent, l.Window, MaxLimitWindow)
	}
	return nil
}

// Details the trail writes into an event it stores as refused by its limits.
const (
	// DetailFailure names why an action failed, as a code. The trail writes FailureRateLimited;
	// callers write their own codes (RevealFailures for reveals).
	DetailFailure = "failure"
	// DetailLimit is the limit that was reached, as Limit.String writes it.
	DetailLimit = "limit"
	// FailureRateLimited is the failure of an event over its actor's limit.
	FailureRateLimited = "rate_limited"
)

// ErrLimited is wrapped by the *LimitError that Record and Append return for an event over its
// actor's limit.
var ErrLimited = errors.New("audit: the actor's limit is reached")

// LimitError says which limit refused an event, and how long until the actor is under it
// again. The refusal itself is committed: the trail stored the event as a failure.
type LimitError struct {
	Limit      Limit
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("audit: at most %d events in %s: retry after %s", e.Limit.Max, e.Limit.Window, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrLimited) hold.
func (e *LimitError) Unwrap() error { return ErrLimited }

// checkLimits validates an event's limits: only a success can be limited (a failure is what
// a limited event becomes), and the details must leave room for the two the refusal adds.
func checkLimits(e Event) error {
	if len(e.Limits) == 0 {
		return nil
	}
	if e.Outcome != Success {
		return fmt.Errorf("%w: limits on an event that is not a success", ErrInvalidEvent)
	}
	if len(e.Details) > maxDetails-2 {
		return fmt.Errorf("%w: %d details on a limited event, at most %d", ErrInvalidEvent, len(e.Details), maxDetails-2)
	}
	if _, set := e.Details[DetailFailure]; set {
		return fmt.Errorf("%w: a limited event names a failure", ErrInvalidEvent)
	}
	for _, l := range e.Limits {
		if err := l.validate(); err != nil {
			return err
		}
	}
	return nil
}

// applyLimits decides, inside the append transaction that holds the chain head, whether each
// limited event of a batch is still under its limits, and turns each one that is not into the
// failure the trail stores instead. Holding the head serialises every append of every replica,
// so the count cannot race another request's reveal: two replicas, or twenty concurrent
// requests of one actor, share one limit exactly. Events earlier in the same batch count as if
// already stored; rows beyond the sealed head (headSeq) were never written by the trail and do
// not count.
func (t *Trail) applyLimits(ctx context.Context, tx *sql.Tx, headSeq int64, batch []*pending) error {
	for i, p := range batch {
		if len(p.orig.Limits) == 0 {
			continue
		}
		// A retried append starts again from the event as the caller gave it.
		p.ev, p.limited = p.orig, nil
		for _, l := range p.orig.Limits {
			wait, err := t.limitWait(ctx, tx, headSeq, &p.ev, batch[:i], l)
			if err != nil {
				return err
			}
			if wait > 0 && (p.limited == nil || wait > p.limited.RetryAfter) {
				p.limited = &LimitError{Limit: l, RetryAfter: wait}
			}
		}
		if p.limited != nil {
			p.ev = refusedByLimit(p.ev, p.limited.Limit)
		}
	}
	return nil
}

// limitWait returns how long until e's actor is under l at e's time: 0 when it already is.
// The actor has reached l when l.Max successes of e's action fall within the window ending at
// e's time; it is under it again once the l.Max-th most recent of them has left the window.
func (t *Trail) limitWait(ctx context.Context, tx *sql.Tx, headSeq int64, e *Event, earlier []*pending, l Limit) (time.Duration, error) {
	cutoff := e.Time.Add(-l.Window).UnixMilli()
	// The index audit_events_actor_limit holds exactly this prefix, so the query reads at most
	// l.Max index entries of this actor, whatever the size of the trail.
	rows, err := tx.QueryContext(ctx, t.db.Rebind(
		"SELECT at_ms FROM audit_events WHERE actor_sub = ? AND action = ? AND outcome = ? AND at_ms > ? AND actor_iss = ?"+
			" AND seq <= ? ORDER BY at_ms DESC LIMIT ?"),
		e.Actor.Subject, string(e.Action), string(Success), cutoff, e.Actor.Issuer, headSeq, l.Max)
	if err != nil {
		return 0, fmt.Errorf("count limited events: %w", err)
	}
	defer rows.Close()
	var times []int64
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			return 0, fmt.Errorf("count limited events: %w", err)
		}
		times = append(times, ms)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count limited events: %w", err)
	}
	for _, p := range earlier {
		o := &p.ev
		if o.Outcome == Success && o.Action == e.Action && o.Actor.Subject == e.Actor.Subject &&
			o.Actor.Issuer == e.Actor.Issuer && o.Time.UnixMilli() > cutoff {
			times = append(times, o.Time.UnixMilli())
		}
	}
	if len(times) < l.Max {
		return 0, nil
	}
	slices.Sort(times)
	slices.Reverse(times)
	wait := time.Duration(times[l.Max-1]-cutoff) * time.Millisecond
	// A refused event waits at least a millisecond, even at the edge of the window.
	return max(wait, time.Millisecond), nil
}

// refusedByLimit is e as the trail stores it when l refused it: a failure naming the limit,
// with the rest of what the caller recorded (for a reveal: which field, from where, and why).
func refusedByLimit(e Event, l Limit) Event {
	d := make(map[string]string, len(e.Details)+2)
	maps.Copy(d, e.Details)
	d[DetailFailure] = FailureRateLimited
	d[DetailLimit] = l.String()
	e.Outcome, e.Details, e.Limits = Failure, d, nil
	return e
}
