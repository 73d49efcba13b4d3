package sqldialect

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"sync"
)

// ErrClosed is returned by Statements.Get once the statements are closed, which they are when
// the database that owns them is.
var ErrClosed = errors.New("sqldialect: the database is closed")

// Statements are a database's prepared statements, kept by their query text for the life of
// the database. database/sql prepares a *sql.Stmt again on each pooled connection the first
// time it runs there and keeps that copy, so a hot query is parsed and planned once per
// connection instead of once per call; SQLite spends as long parsing a short query as running
// it. Keep only texts from a small, fixed set: every text asked for is kept until Close.
//
// A statement is prepared outside the lock: preparing may wait for a free connection, and
// callers of statements already prepared must not wait behind it. Two callers racing on one
// new text both prepare it; the first to store its copy wins, and the other closes its own
// and returns the winner, so every caller of a text gets the same *sql.Stmt.
type Statements struct {
	db *sql.DB
	// mu guards byText and closed, never a prepare.
	mu     sync.RWMutex
	byText map[string]*sql.Stmt
	closed bool
}

// NewStatements returns an empty set of statements prepared on db.
func NewStatements(db *sql.DB) *Statements {
	return &Statements{db: db, byText: map[string]*sql.Stmt{}}
}

// Get returns query prepared, exactly as given (rebind it for the dialect first), preparing
// it the first time it is asked for. A query that fails to prepare is not kept.
func (s *Statements) Get(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	st, ok := s.byText[query]
	closed := s.closed
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	if closed {
		return nil, ErrClosed
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		st.Close()
		return nil, ErrClosed
	}
	if won, ok := s.byText[query]; ok {
		st.Close()
		return won, nil
	}
	s.byText[query] = st
	return st, nil
}

// Len is how many texts are prepared and kept.
func (s *Statements) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byText)
}

// Texts are the texts prepared and kept, in no particular order, for tests that check every
// statement a package keeps (their plans, their placeholders).
func (s *Statements) Texts() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Collect(maps.Keys(s.byText))
}

// Close closes every statement; Get fails with ErrClosed afterwards.
func (s *Statements) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, st := range s.byText {
		errs = append(errs, st.Close())
	}
	s.byText = nil
	return errors.Join(errs...)
}
