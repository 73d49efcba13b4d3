package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// stmtCache holds the statements of a DB prepared once, keyed by their query text as written
// (with "?" placeholders). database/sql prepares each one again on every pooled connection
// the first time it runs there and reuses it afterwards, so a hot query is parsed once per
// connection instead of once per call; SQLite spends as long parsing a short query as running
// it.
type stmtCache struct {
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	closed bool
}

// errClosed is returned by Prepared on a closed DB.
var errClosed = errors.New("store: database is closed")

// Prepared returns query, rebound for the dialect, prepared once for the life of db. Use it
// for the statements that run on every request (sessions, the audit append); one-off queries
// gain nothing from it. Inside a transaction, run the statement through tx.StmtContext, which
// reuses the connection's prepared copy. The statements are closed with db.
func (db *DB) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &db.stmts
	c.mu.Lock()
	st, ok := c.stmts[query]
	closed := c.closed
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	if closed {
		return nil, errClosed
	}
	// Prepared outside the lock: preparing may wait for a connection, and callers of other
	// statements must not wait behind it. Two callers racing on one query both prepare; the
	// first to store wins and the other's copy is closed.
	st, err := db.PrepareContext(ctx, db.Rebind(query))
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		st.Close()
		return nil, errClosed
	}
	if won, ok := c.stmts[query]; ok {
		st.Close()
		return won, nil
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = st
	return st, nil
}

// closeAll closes every prepared statement and refuses new ones.
func (c *stmtCache) closeAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}
