package sqldialect

import (
	"context"
	"database/sql"
	"errors"
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
// Statements are kept by their text as written, with "?" placeholders; rewrite (the
// dialect's placeholders, SQLite's "+?") is applied once, when a text is first prepared, so
// a hot call costs one map lookup and no string building.
//
// A statement is prepared outside the lock: preparing may wait for a free connection, and
// callers of statements already prepared must not wait behind it. Two callers racing on one
// new text both prepare it; the first to store its copy wins, and the other closes its own
// and returns the winner, so every caller of a text gets the same *sql.Stmt.
type Statements struct {
	db      *sql.DB
	rewrite func(string) string
	// mu guards byText and closed, never a prepare.
	mu     sync.RWMutex
	byText map[string]prepared
	closed bool
}

// prepared is a kept statement and the text it was prepared from.
type prepared struct {
	st   *sql.Stmt
	text string
}

// NewStatements returns an empty set of statements prepared on db from each text rewritten
// by rewrite (nil: as written).
func NewStatements(db *sql.DB, rewrite func(string) string) *Statements {
	if rewrite == nil {
		rewrite = func(q string) string { return q }
	}
	return &Statements{db: db, rewrite: rewrite, byText: map[string]prepared{}}
}

// Get returns query prepared, preparing it from its rewritten text the first time it is asked
// for. A query that fails to prepare is not kept.
func (s *Statements) Get(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	p, ok := s.byText[query]
	closed := s.closed
	s.mu.RUnlock()
	if ok {
		return p.st, nil
	}
	if closed {
		return nil, ErrClosed
	}
	text := s.rewrite(query)
	st, err := s.db.PrepareContext(ctx, text)
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
		return won.st, nil
	}
	s.byText[query] = prepared{st: st, text: text}
	return st, nil
}

// Len is how many texts are prepared and kept.
func (s *Statements) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byText)
}

// Texts are the rewritten texts prepared and kept, in no particular order, for tests that
// check every statement a package keeps (their plans, their placeholders).
func (s *Statements) Texts() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	texts := make([]string, 0, len(s.byText))
	for _, p := range s.byText {
		texts = append(texts, p.text)
	}
	return texts
}

// Close closes every statement; Get fails with ErrClosed afterwards.
func (s *Statements) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, p := range s.byText {
		errs = append(errs, p.st.Close())
	}
	s.byText = nil
	return errors.Join(errs...)
}
