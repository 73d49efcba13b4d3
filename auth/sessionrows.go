package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// The statements every signed-in request runs, prepared once per store connection (see
// store.DB.Prepared): loading the row, and moving its last activity.
const (
	sqlLoadSession   = `SELECT data, created_at, last_seen_at FROM auth_sessions WHERE id_hash = ?`
	sqlTouchSession  = `UPDATE auth_sessions SET last_seen_at = ? WHERE id_hash = ?`
	sqlDeleteSession = `DELETE FROM auth_sessions WHERE id_hash = ?`
)

// queryRow runs one of the store's hot queries through its prepared statement.
func (s *SessionStore) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	st, err := s.db.Prepared(ctx, query)
	if err != nil {
		return failedRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// exec runs one of the store's hot statements through its prepared statement.
func (s *SessionStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.db.Prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

type rowScanner interface{ Scan(dest ...any) error }

// failedRow is a row whose statement could not be prepared.
type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }

// decodedRowsMax bounds the decoded rows one process keeps: far more sessions than one
// replica serves at once; past it, an arbitrary entry makes room.
const decodedRowsMax = 4096

// decodedRows remembers, per session row (by id hash), the row's data as last read and what it
// decodes to. A request whose row holds exactly the data it held before takes the decoding
// instead of parsing the JSON again. The row itself is still read on every request, so a
// session deleted or changed by any replica is seen at once; this only ever saves the work of
// turning the same bytes into the same value. Nothing here is secret beyond the row itself:
// the refresh token stays sealed (it is opened only when a re-check needs it).
type decodedRows struct {
	mu   sync.Mutex
	max  int
	rows map[string]decodedRow
}

type decodedRow struct {
	raw  string
	data sessionData
}

func newDecodedRows(max int) *decodedRows {
	return &decodedRows{max: max, rows: make(map[string]decodedRow)}
}

// decode returns a fresh copy of raw decoded, the row of idHash, from the last decoding when
// raw has not changed since. The copy is the caller's: nothing it changes reaches the cache.
func (c *decodedRows) decode(idHash, raw string) (*sessionData, error) {
	c.mu.Lock()
	row, ok := c.rows[idHash]
	c.mu.Unlock()
	if ok && row.raw == raw {
		d := row.data.clone()
		return &d, nil
	}
	var d sessionData
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return nil, fmt.Errorf("auth: decode session: %w", err)
	}
	kept := d.clone()
	c.mu.Lock()
	if _, ok := c.rows[idHash]; !ok && len(c.rows) >= c.max {
		for k := range c.rows {
			delete(c.rows, k)
			break
		}
	}
	c.rows[idHash] = decodedRow{raw: raw, data: kept}
	c.mu.Unlock()
	return &d, nil
}

// clone copies d with slices of its own.
func (d sessionData) clone() sessionData {
	d.Groups = slices.Clone(d.Groups)
	d.User.Roles = slices.Clone(d.User.Roles)
	return d
}

// forget drops the decoding of a row that is gone.
func (c *decodedRows) forget(idHash string) {
	c.mu.Lock()
	delete(c.rows, idHash)
	c.mu.Unlock()
}
