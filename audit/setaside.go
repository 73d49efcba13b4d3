package audit

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Rows beyond the sealed head. Every append writes its events, its checkpoints and the new
// head in one transaction, so an event with a seq after the head, or a checkpoint numbered
// after the head's last one, was never written by the trail: it was inserted behind its back,
// or is what is left when an older head was restored over a newer chain. Such rows must not
// become part of the chain, must not be destroyed (they are evidence), and must not stop the
// trail from recording: an append that finds them moves them, unchanged, to the set-aside
// tables and goes on. Verification reports every set-aside row until an operator has reviewed
// and removed it.

const checkpointColumns = "n, seq, hash, kind, at_ms, key_id, mac"

// setAside is what setAsideBeyondHead moved.
type setAside struct {
	events, checkpoints int64
}

// setAsideBeyondHead moves the events and checkpoints beyond the sealed head to the set-aside
// tables, in one serialised write transaction.
func (t *Trail) setAsideBeyondHead(ctx context.Context) (setAside, error) {
	var out setAside
	found := t.opts.Now().UnixMilli()
	err := t.inWriteTx(ctx, func(tx *sql.Tx, h head) (head, error) {
		var err error
		out.events, err = t.moveAside(ctx, tx, "audit_events", "audit_set_aside_events", eventColumns, "seq", h.seq, found)
		if err != nil {
			return h, err
		}
		out.checkpoints, err = t.moveAside(ctx, tx, "audit_checkpoints", "audit_set_aside_checkpoints", checkpointColumns, "n", h.checkpointN, found)
		return h, err
	})
	if err != nil {
		return setAside{}, fmt.Errorf("set aside rows beyond the head: %w", err)
	}
	return out, nil
}

// moveAside copies the rows of table whose key is beyond after into the set-aside table, then
// deletes them from table, and returns how many it moved.
func (t *Trail) moveAside(ctx context.Context, tx *sql.Tx, table, aside, columns, key string, after, foundMS int64) (int64, error) {
	res, err := tx.ExecContext(ctx, t.db.Rebind(
		"INSERT INTO "+aside+" (found_ms, "+columns+") SELECT ?, "+columns+" FROM "+table+" WHERE "+key+" > ?"),
		foundMS, after)
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, t.db.Rebind("DELETE FROM "+table+" WHERE "+key+" > ?"), after); err != nil {
		return 0, fmt.Errorf("delete from %s: %w", table, err)
	}
	return n, nil
}

// setAsideFinding is one set-aside table as verification reports it: how many rows, the range
// of their keys (seq for events, number for checkpoints), the lowest seq they concern, and
// when the first was found.
type setAsideFinding struct {
	rows       int64
	lo, hi     int64
	seq        int64
	firstFound time.Time
	one, many  string
	table      string
}

// loadSetAside summarises both set-aside tables.
func loadSetAside(ctx context.Context, q queryRower) ([]setAsideFinding, error) {
	var out []setAsideFinding
	for _, s := range []struct{ table, key, one, many string }{
		{"audit_set_aside_events", "seq", "event", "events"},
		{"audit_set_aside_checkpoints", "n", "checkpoint", "checkpoints"},
	} {
		f := setAsideFinding{one: s.one, many: s.many, table: s.table}
		var lo, hi, seq, found sql.NullInt64
		err := q.QueryRowContext(ctx, "SELECT COUNT(*), MIN("+s.key+"), MAX("+s.key+"), MIN(seq), MIN(found_ms) FROM "+s.table).
			Scan(&f.rows, &lo, &hi, &seq, &found)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.table, err)
		}
		if f.rows > 0 {
			f.lo, f.hi, f.seq, f.firstFound = lo.Int64, hi.Int64, seq.Int64, time.UnixMilli(found.Int64).UTC()
			out = append(out, f)
		}
	}
	return out, nil
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkBeyondHead reports events stored after the sealed head, and every row the trail has
// set aside from beyond it.
func (w *walker) checkBeyondHead(ctx context.Context, tx *sql.Tx) error {
	var n int64
	var lo, hi sql.NullInt64
	err := tx.QueryRowContext(ctx, w.t.db.Rebind("SELECT COUNT(*), MIN(seq), MAX(seq) FROM audit_events WHERE seq > ?"), w.h.seq).
		Scan(&n, &lo, &hi)
	if err != nil {
		return fmt.Errorf("read events beyond the head: %w", err)
	}
	if n > 0 {
		what, plural := describeSeqs(n, lo.Int64, hi.Int64, "event", "events")
		w.fail(lo.Int64, "%s %s stored after the sealed head at seq %d without ever being sealed: forged, or left behind "+
			"when an older head was restored", what, verb(plural, "is", "are"), w.h.seq)
	}
	found, err := loadSetAside(ctx, tx)
	if err != nil {
		return err
	}
	for _, f := range found {
		what, plural := describeSeqs(f.rows, f.lo, f.hi, f.one, f.many)
		w.fail(f.seq, "%s %s found beyond the sealed head and set aside on %s: never part of the chain, kept for review in %s",
			what, verb(plural, "was", "were"), f.firstFound.Format(time.RFC3339), f.table)
	}
	return nil
}

// describeSeqs names n things numbered lo..hi ("event 51", "events 21 to 50", "3 events
// between 4 and 90") and says whether the phrase is plural.
func describeSeqs(n, lo, hi int64, one, many string) (string, bool) {
	switch {
	case n == 1:
		return fmt.Sprintf("%s %d", one, lo), false
	case n == hi-lo+1:
		return fmt.Sprintf("%s %d to %d", many, lo, hi), true
	}
	return fmt.Sprintf("%d %s between %d and %d", n, many, lo, hi), true
}

func verb(plural bool, one, many string) string {
	if plural {
		return many
	}
	return one
}
