package scan

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"ctpdesk/store"
)

// The rule for D1's capacity, written once:
//
//  1. CTPDESK_SCAN_RATE (R) is what the scan may spend across the whole deployment. Each
//     second of wall-clock time has a row in scan_rate, shared by every replica; a scan worker
//     leases numbered slots from it in a transaction and slot j of second S may be used at
//     S + j/R, never after S ends. So the calls of all replicas together are spread evenly and
//     never exceed R in a second, however many workers run.
//  2. People go first. Every interactive D1 call is counted into the same row (interactive),
//     and a second's scan budget is R minus the interactive calls already counted in it; and
//     while a person's call is in flight in a replica, that replica's scan workers wait for it
//     to finish before they take another slot.
//  3. When D1 answers 429 or the breaker is open, the scan backs off as a whole: scan_backoff
//     holds every worker of every replica back, for 5 s doubling to 5 min while it recurs.

// Backoff bounds.
const (
	backoffFirst = 5 * time.Second
	backoffMax   = 5 * time.Minute
)

// longWait is the longest backoff a worker sleeps through; a longer one ends its job run
// with a snooze, so the worker slot is free and the job resumes when the backoff ends.
const longWait = 2 * time.Second

// backingOff is wait's error while the scan as a whole is held back for longer than longWait.
type backingOff struct{ until time.Time }

func (b *backingOff) Error() string {
	return "scan: backing off until " + b.until.UTC().Format(time.RFC3339)
}

// limiter is one replica's side of the shared D1 budget.
type limiter struct {
	db   *store.DB
	rate float64
	now  func() time.Time
	// first is the first backoff's length (backoffFirst; tests shorten it).
	first time.Duration

	// interactive counts people's D1 calls in flight in this replica.
	interactive atomic.Int64

	mu      sync.Mutex
	second  int64
	slots   []int // the leased slot numbers of second, in order
	pending map[int64]int64
	// backoffUntil caches scan_backoff between reads, for an uncapped scan that never
	// leases.
	backoffUntil time.Time
	backoffRead  time.Time
	lastCleanup  int64
}

func newLimiter(db *store.DB, rate float64, now func() time.Time) *limiter {
	return &limiter{db: db, rate: rate, now: now, first: backoffFirst, pending: map[int64]int64{}}
}

// perSecond is the scan budget of second s: R on average, with fractional rates spread so that
// 0.5 gives one call every other second and 2.5 gives 2, 3, 2, 3.
func (l *limiter) perSecond(s int64) int {
	return int(math.Floor(l.rate*float64(s+1)) - math.Floor(l.rate*float64(s)))
}

// wait blocks until the scan may make one D1 call, or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		if err := l.yieldToPeople(ctx); err != nil {
			return err
		}
		at, ok, err := l.take(ctx)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := sleep(ctx, at.Sub(l.now())); err != nil {
			return err
		}
		if l.rate > 0 && l.now().Unix() > at.Unix() {
			// The slot's second ended while waiting: using it now would spend the next
			// second's budget twice.
			continue
		}
		return nil
	}
}

// yieldToPeople waits while a person's D1 call is in flight in this replica.
func (l *limiter) yieldToPeople(ctx context.Context) error {
	for l.interactive.Load() > 0 {
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// take finds the caller a slot and returns when it may be used (ok true), or waits for the
// next chance (the backoff's end, the next second) and returns ok false.
func (l *limiter) take(ctx context.Context) (time.Time, bool, error) {
	now := l.now()
	if l.rate <= 0 {
		until, err := l.cachedBackoff(ctx, now)
		if err != nil {
			return time.Time{}, false, err
		}
		if held, err := holdBack(ctx, now, until); held {
			return time.Time{}, false, err
		}
		return now, true, nil
	}
	sec := now.Unix()
	l.mu.Lock()
	if l.second == sec && len(l.slots) > 0 {
		j := l.slots[0]
		l.slots = l.slots[1:]
		l.mu.Unlock()
		return l.slotTime(sec, j), true, nil
	}
	l.mu.Unlock()
	first, n, until, err := l.lease(ctx, sec, now)
	if err != nil {
		return time.Time{}, false, err
	}
	if held, err := holdBack(ctx, now, until); held {
		return time.Time{}, false, err
	}
	if n == 0 {
		// This second's budget is spent: come back when the next one starts.
		next := time.Unix(sec+1, 0)
		return time.Time{}, false, sleep(ctx, next.Sub(l.now()))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.second != sec {
		l.second, l.slots = sec, nil
	}
	for j := first + 1; j < first+n; j++ {
		l.slots = append(l.slots, j)
	}
	return l.slotTime(sec, first), true, nil
}

// holdBack reports whether the scan is backing off at now; it sleeps through a short backoff
// and returns backingOff for a long one.
func holdBack(ctx context.Context, now, until time.Time) (bool, error) {
	switch {
	case until.Sub(now) > longWait:
		return true, &backingOff{until: until}
	case until.After(now):
		return true, sleep(ctx, until.Sub(now))
	}
	return false, nil
}

// slotTime is when slot j of second sec may be used.
func (l *limiter) slotTime(sec int64, j int) time.Time {
	per := max(l.perSecond(sec), 1)
	return time.Unix(sec, 0).Add(time.Duration(j) * time.Second / time.Duration(per))
}

// leaseSize is how many slots one lease asks for: a few, so that a replica does not take a
// second's whole budget while others wait, and a lease costs one transaction per few calls.
func (l *limiter) leaseSize(sec int64) int {
	return max(1, l.perSecond(sec)/8)
}

// lease takes up to leaseSize slots of second sec from the shared row, after the interactive
// calls counted in it, unless the scan is backing off (until is then in the future).
func (l *limiter) lease(ctx context.Context, sec int64, now time.Time) (first, n int, until time.Time, err error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("scan: rate lease: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var untilMS int64
	if err := tx.QueryRowContext(ctx, "SELECT until_ms FROM scan_backoff WHERE id = 1").Scan(&untilMS); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("scan: rate lease: %w", err)
	}
	if untilMS > now.UnixMilli() {
		return 0, 0, time.UnixMilli(untilMS), tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, l.db.Rebind("INSERT INTO scan_rate (second) VALUES (?) ON CONFLICT (second) DO NOTHING"), sec); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("scan: rate lease: %w", err)
	}
	q := "SELECT scan_used, interactive FROM scan_rate WHERE second = ?"
	if l.db.Dialect == store.Postgres {
		q += " FOR UPDATE"
	}
	var used, people int
	if err := tx.QueryRowContext(ctx, l.db.Rebind(q), sec).Scan(&used, &people); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("scan: rate lease: %w", err)
	}
	n = min(l.leaseSize(sec), l.perSecond(sec)-used-people)
	if n <= 0 {
		return 0, 0, time.Time{}, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, l.db.Rebind("UPDATE scan_rate SET scan_used = scan_used + ? WHERE second = ?"), n, sec); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("scan: rate lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, time.Time{}, fmt.Errorf("scan: rate lease: %w", err)
	}
	// Slots are numbered after the people's calls, so the scan's calls keep to the second's
	// end of the budget and the slot times stay spread.
	return used + people, n, time.Time{}, nil
}

// cachedBackoff reads scan_backoff at most once a second.
func (l *limiter) cachedBackoff(ctx context.Context, now time.Time) (time.Time, error) {
	l.mu.Lock()
	if now.Sub(l.backoffRead) < time.Second {
		u := l.backoffUntil
		l.mu.Unlock()
		return u, nil
	}
	l.mu.Unlock()
	var untilMS int64
	if err := l.db.QueryRowContext(ctx, "SELECT until_ms FROM scan_backoff WHERE id = 1").Scan(&untilMS); err != nil {
		return time.Time{}, fmt.Errorf("scan: backoff: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.backoffUntil, l.backoffRead = time.UnixMilli(untilMS), now
	return l.backoffUntil, nil
}

// backOff holds the whole scan back after D1 said 429 or the breaker opened, and returns how
// long for. A strike within a minute of the last backoff's end doubles the wait.
func (l *limiter) backOff(ctx context.Context, reason string) (time.Duration, error) {
	now := l.now()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("scan: back off: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	q := "SELECT until_ms, strikes FROM scan_backoff WHERE id = 1"
	if l.db.Dialect == store.Postgres {
		q += " FOR UPDATE"
	}
	var untilMS, strikes int64
	if err := tx.QueryRowContext(ctx, q).Scan(&untilMS, &strikes); err != nil {
		return 0, fmt.Errorf("scan: back off: %w", err)
	}
	if untilMS > now.UnixMilli() {
		// Another worker backed off already for this episode.
		return time.UnixMilli(untilMS).Sub(now), tx.Commit()
	}
	if now.UnixMilli()-untilMS > time.Minute.Milliseconds() {
		strikes = 0
	}
	wait := min(l.first<<min(strikes, 10), backoffMax)
	until := now.Add(wait)
	if _, err := tx.ExecContext(ctx, l.db.Rebind("UPDATE scan_backoff SET until_ms = ?, strikes = ?, reason = ? WHERE id = 1"),
		until.UnixMilli(), strikes+1, reason); err != nil {
		return 0, fmt.Errorf("scan: back off: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("scan: back off: %w", err)
	}
	l.mu.Lock()
	l.backoffUntil, l.backoffRead = until, now
	l.mu.Unlock()
	return wait, nil
}

// countInteractive notes one of people's D1 calls for the shared row; flush writes them.
func (l *limiter) countInteractive(at time.Time) {
	l.mu.Lock()
	l.pending[at.Unix()]++
	l.mu.Unlock()
}

// flush adds the people's calls counted since the last flush to the shared rows, and now and
// then drops rows older than two minutes.
func (l *limiter) flush(ctx context.Context) error {
	l.mu.Lock()
	pending := l.pending
	l.pending = map[int64]int64{}
	l.mu.Unlock()
	q := l.db.Rebind("INSERT INTO scan_rate (second, interactive) VALUES (?, ?) ON CONFLICT (second) DO UPDATE SET interactive = scan_rate.interactive + excluded.interactive")
	for sec, n := range pending {
		if _, err := l.db.ExecContext(ctx, q, sec, n); err != nil {
			return fmt.Errorf("scan: count interactive calls: %w", err)
		}
	}
	// The scanner's flush loop may run beside a caller that needs the counts written now: the
	// prune is decided under the lock, so only one of them makes it.
	now := l.now().Unix()
	l.mu.Lock()
	prune := now-l.lastCleanup >= 30
	if prune {
		l.lastCleanup = now
	}
	l.mu.Unlock()
	if prune {
		if _, err := l.db.ExecContext(ctx, l.db.Rebind("DELETE FROM scan_rate WHERE second < ?"), now-120); err != nil {
			return fmt.Errorf("scan: prune rate rows: %w", err)
		}
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
