package scan

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ctpdesk/issuerdb"
)

// Trigger says who started a scan.
type Trigger string

// Triggers.
const (
	TriggerSchedule Trigger = "schedule"
	TriggerAnalyst  Trigger = "analyst"
	TriggerCommand  Trigger = "command"
)

// Run states.
const (
	StateRunning   = "running"
	StateCancelled = "cancelled"
	StateFinished  = "finished"
)

// Errors of the scan's own operations.
var (
	// ErrNotFound: no scan with that id.
	ErrNotFound = errors.New("scan: no such scan")
	// ErrConflict: the scan is not in a state that allows the operation (cancel a finished
	// scan, resume a running one, start a second while one runs).
	ErrConflict = errors.New("scan: not possible in the scan's state")
	// ErrInvalid: a request the scan refuses (bad filter, unknown decision or reason).
	ErrInvalid = errors.New("scan: invalid request")
)

// Run is one scan as stored.
type Run struct {
	ID            int64
	Trigger       Trigger
	StartedBy     string
	StartedByName string
	Filter        issuerdb.WalkFilter
	State         string
	Generation    int
	Planned       bool
	Customers     int
	Chunks        int
	CreatedAt     time.Time
	FinishedAt    time.Time
	CancelledAt   time.Time
	CancelledBy   string
}

// storedFilter is a filter as scans.filter holds it.
type storedFilter struct {
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
	ChangedSince int64  `json:"changedSince,omitempty"`
	Directory    string `json:"directory,omitempty"`
}

func encodeFilter(f issuerdb.WalkFilter) string {
	sf := storedFilter{From: f.FromID, To: f.ToID, Directory: f.Directory}
	if !f.ChangedSince.IsZero() {
		sf.ChangedSince = f.ChangedSince.Unix()
	}
	b, _ := json.Marshal(sf) // strings and an int always marshal
	return string(b)
}

func decodeFilter(s string) (issuerdb.WalkFilter, error) {
	var sf storedFilter
	if err := json.Unmarshal([]byte(s), &sf); err != nil {
		return issuerdb.WalkFilter{}, fmt.Errorf("scan: stored filter: %w", err)
	}
	f := issuerdb.WalkFilter{FromID: sf.From, ToID: sf.To, Directory: sf.Directory}
	if sf.ChangedSince != 0 {
		f.ChangedSince = time.Unix(sf.ChangedSince, 0).UTC()
	}
	return f, nil
}

const runColumns = "id, trigger_kind, started_by, started_by_name, filter, state, generation, planned, " +
	"customers_total, chunks_total, created_at, finished_at, cancelled_at, cancelled_by"

func scanRun(s interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var filter string
	var planned, created int64
	var finished, cancelled sql.NullInt64
	if err := s.Scan(&r.ID, &r.Trigger, &r.StartedBy, &r.StartedByName, &filter, &r.State, &r.Generation, &planned,
		&r.Customers, &r.Chunks, &created, &finished, &cancelled, &r.CancelledBy); err != nil {
		return Run{}, err
	}
	f, err := decodeFilter(filter)
	if err != nil {
		return Run{}, err
	}
	r.Filter, r.Planned, r.CreatedAt = f, planned != 0, time.UnixMilli(created).UTC()
	if finished.Valid {
		r.FinishedAt = time.UnixMilli(finished.Int64).UTC()
	}
	if cancelled.Valid {
		r.CancelledAt = time.UnixMilli(cancelled.Int64).UTC()
	}
	return r, nil
}

// createRun stores a new running scan. startKey, when not empty, makes the creation
// idempotent: a second call with the same key returns the first scan and created false.
func (s *Scanner) createRun(ctx context.Context, trigger Trigger, by, byName string, f issuerdb.WalkFilter, startKey string) (Run, bool, error) {
	var key any
	if startKey != "" {
		key = startKey
	}
	var id int64
	err := s.db.QueryRowContext(ctx, s.db.Rebind(`INSERT INTO scans (trigger_kind, start_key, started_by, started_by_name, filter, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (start_key) DO NOTHING RETURNING id`),
		string(trigger), key, by, byName, encodeFilter(f), StateRunning, s.now().UnixMilli()).Scan(&id)
	created := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		err = s.db.QueryRowContext(ctx, s.db.Rebind("SELECT id FROM scans WHERE start_key = ?"), startKey).Scan(&id)
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("scan: create: %w", err)
	}
	r, err := s.Run(ctx, id)
	return r, created, err
}

// Run returns one scan.
func (s *Scanner) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.db.Rebind("SELECT "+runColumns+" FROM scans WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return Run{}, fmt.Errorf("scan: read scan %d: %w", id, err)
	}
	return r, nil
}

// runs lists the latest scans, newest first.
func (s *Scanner) runs(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT "+runColumns+" FROM scans ORDER BY id DESC LIMIT ?"), limit)
	if err != nil {
		return nil, fmt.Errorf("scan: list scans: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("scan: list scans: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan: list scans: %w", err)
	}
	return out, nil
}

// running returns the scan in progress, if any.
func (s *Scanner) running(ctx context.Context) (Run, bool, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, s.db.Rebind("SELECT "+runColumns+" FROM scans WHERE state = ? ORDER BY id LIMIT 1"), StateRunning))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, fmt.Errorf("scan: running scan: %w", err)
	}
	return r, true, nil
}

// chunkRef names one chunk of a scan: the customers after After up to Last.
type chunkRef struct {
	Chunk     int
	After     string
	Last      string
	Customers int
	Done      bool
}

// addChunk records a planned chunk; planning again after a crash records nothing twice.
func (s *Scanner) addChunk(ctx context.Context, scanID int64, c chunkRef) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO scan_chunks (scan_id, chunk, after_id, last_id, customers, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scan_id, chunk) DO NOTHING`),
		scanID, c.Chunk, c.After, c.Last, c.Customers, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("scan: plan chunk: %w", err)
	}
	return nil
}

// chunks lists a scan's chunks in order.
func (s *Scanner) chunks(ctx context.Context, scanID int64) ([]chunkRef, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT chunk, after_id, last_id, customers, done FROM scan_chunks WHERE scan_id = ? ORDER BY chunk"), scanID)
	if err != nil {
		return nil, fmt.Errorf("scan: chunks: %w", err)
	}
	defer rows.Close()
	var out []chunkRef
	for rows.Next() {
		var c chunkRef
		var done int64
		if err := rows.Scan(&c.Chunk, &c.After, &c.Last, &c.Customers, &done); err != nil {
			return nil, fmt.Errorf("scan: chunks: %w", err)
		}
		c.Done = done != 0
		out = append(out, c)
	}
	return out, rows.Err()
}

// markPlanned records that every chunk of the scan is known.
func (s *Scanner) markPlanned(ctx context.Context, scanID int64) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE scans SET planned = 1,
		customers_total = (SELECT coalesce(sum(customers), 0) FROM scan_chunks WHERE scan_id = ?),
		chunks_total = (SELECT count(*) FROM scan_chunks WHERE scan_id = ?) WHERE id = ?`), scanID, scanID, scanID)
	if err != nil {
		return fmt.Errorf("scan: mark planned: %w", err)
	}
	return nil
}

// finishIfDone marks a planned, running scan finished once every chunk is done, and says
// whether this call did it: exactly one caller sees true, however many workers race.
func (s *Scanner) finishIfDone(ctx context.Context, scanID int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE scans SET state = ?, finished_at = ?,
		customers_total = (SELECT coalesce(sum(customers), 0) FROM scan_chunks WHERE scan_id = ?)
		WHERE id = ? AND state = ? AND planned = 1
		AND NOT EXISTS (SELECT 1 FROM scan_chunks WHERE scan_id = ? AND done = 0)`),
		StateFinished, s.now().UnixMilli(), scanID, scanID, StateRunning, scanID)
	if err != nil {
		return false, fmt.Errorf("scan: finish: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
