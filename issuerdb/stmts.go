package issuerdb

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// reuse says whether a statement's text is worth preparing once and keeping.
type reuse bool

const (
	// keep: the text is one of a small, fixed set (its shape depends on the query's kind, the
	// number of name words, whether there is a cursor), so it is prepared once per pooled
	// connection and kept until Close.
	keep reuse = true
	// once: the text grows one UNION branch per name word or key, with no bound on how many,
	// so keeping every shape would grow without end; it is prepared for the call alone.
	once reuse = false
)

// statements are a DB's prepared statements by SQL text. database/sql prepares a *sql.Stmt on
// each pooled connection the first time it runs there and keeps it, so a search parses and
// plans each of its statements once per connection instead of once per call.
type statements struct {
	db *sql.DB
	// mu guards byText and closed; a statement is prepared under it, which only ever waits
	// the first time a text is seen.
	mu     sync.RWMutex
	byText map[string]*sql.Stmt
	closed bool
}

func newStatements(db *sql.DB) *statements {
	return &statements{db: db, byText: map[string]*sql.Stmt{}}
}

// errClosed is returned for a statement asked of a closed DB.
var errClosed = errors.New("issuerdb: the database is closed")

// get returns the prepared statement of query, preparing it the first time.
func (s *statements) get(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	st, ok := s.byText[query]
	closed := s.closed
	s.mu.RUnlock()
	if ok {
		return st, nil
	}
	if closed {
		return nil, errClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if st, ok := s.byText[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.byText[query] = st
	return st, nil
}

// len is how many texts are prepared.
func (s *statements) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byText)
}

// close closes every statement; later calls to get fail.
func (s *statements) close() error {
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

// queryRows runs query (with "?" placeholders) and returns its rows.
func (db *DB) queryRows(ctx context.Context, r reuse, query string, args ...any) (*sql.Rows, error) {
	query = db.rebind(query)
	if r == once {
		return db.db.QueryContext(ctx, query, args...)
	}
	st, err := db.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs query (with "?" placeholders) for its first row.
func (db *DB) queryRow(ctx context.Context, r reuse, query string, args ...any) scanner {
	query = db.rebind(query)
	if r == once {
		return db.db.QueryRowContext(ctx, query, args...)
	}
	st, err := db.stmts.get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// errRow is a row whose statement could not be prepared: scanning it returns the error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
