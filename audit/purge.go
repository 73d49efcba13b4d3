package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrChainBroken is returned by Purge when the chain does not verify: deleting events then
// could destroy the evidence of tampering.
var ErrChainBroken = errors.New("audit: chain does not verify")

// PurgeReport says what a retention purge removed.
type PurgeReport struct {
	// Deleted is the number of events removed; PurgedThrough is the last removed seq.
	Deleted       int64
	PurgedThrough int64
}

// Purge deletes the longest prefix of the chain whose events are all older than before, so no
// event younger than the retention period is ever removed even if clocks of replicas disagree.
// It first verifies the whole chain (against the witness, when there is one) and refuses to
// purge a broken one. In the same transaction that deletes the events it seals a purge
// checkpoint over the last deleted event, which becomes the verified start of the remaining
// chain, and deletes the checkpoints before it; the witness then takes the purge checkpoint.
func (t *Trail) Purge(ctx context.Context, before time.Time) (PurgeReport, error) {
	rep, err := t.Verify(ctx)
	if err != nil {
		return PurgeReport{}, fmt.Errorf("audit: purge: %w", err)
	}
	if !rep.OK() {
		return PurgeReport{}, fmt.Errorf("audit: purge: %w: %s", ErrChainBroken, rep)
	}
	var out PurgeReport
	var sealed seals
	err = t.inWriteTx(ctx, func(tx *sql.Tx, h head) (head, error) {
		var firstKept sql.NullInt64
		err := tx.QueryRowContext(ctx, t.db.Rebind("SELECT MIN(seq) FROM audit_events WHERE at_ms >= ?"),
			before.UnixMilli()).Scan(&firstKept)
		if err != nil {
			return h, fmt.Errorf("find cut: %w", err)
		}
		cut := h.seq
		if firstKept.Valid {
			cut = firstKept.Int64 - 1
		}
		var oldest sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT MIN(seq) FROM audit_events").Scan(&oldest); err != nil {
			return h, fmt.Errorf("find start: %w", err)
		}
		if !oldest.Valid || cut < oldest.Int64 {
			return h, nil
		}
		var hash string
		if err := tx.QueryRowContext(ctx, t.db.Rebind("SELECT hash FROM audit_events WHERE seq = ?"), cut).Scan(&hash); err != nil {
			return h, fmt.Errorf("read cut hash: %w", err)
		}
		c := t.newCheckpoint(h.checkpointN+1, kindPurge, cut, hash)
		if err := insertCheckpoint(ctx, t.db, tx, c); err != nil {
			return h, err
		}
		sealed = seals{made: []checkpoint{c}}
		res, err := tx.ExecContext(ctx, t.db.Rebind("DELETE FROM audit_events WHERE seq <= ?"), cut)
		if err != nil {
			return h, fmt.Errorf("delete events: %w", err)
		}
		out.Deleted, _ = res.RowsAffected()
		out.PurgedThrough = cut
		if _, err := tx.ExecContext(ctx, t.db.Rebind("DELETE FROM audit_checkpoints WHERE n < ?"), c.N); err != nil {
			return h, fmt.Errorf("delete checkpoints: %w", err)
		}
		h.checkpointN = c.N
		return h, nil
	})
	if err != nil {
		return PurgeReport{}, fmt.Errorf("audit: purge: %w", err)
	}
	if err := t.witnessSeals(ctx, sealed); err != nil {
		return out, fmt.Errorf("audit: purge: the events are purged but the purge checkpoint is not witnessed yet: %w", err)
	}
	return out, nil
}

// RunRetention purges events older than keep once at start and then every interval until ctx
// ends. Several replicas may run it: purges are serialised on the chain head and a purge with
// nothing old enough changes nothing. Failures are logged and retried at the next interval;
// they never affect recording.
func (t *Trail) RunRetention(ctx context.Context, keep, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rep, err := t.Purge(ctx, t.opts.Now().Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			t.opts.Logger.Error("audit: retention purge failed", "err", err)
		case rep.Deleted > 0:
			t.opts.Logger.Info("audit: retention purge", "deleted", rep.Deleted, "purged_through", rep.PurgedThrough)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
