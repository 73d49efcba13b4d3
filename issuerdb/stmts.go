package issuerdb

import (
	"context"
	"database/sql"
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

// queryRows runs query (with "?" placeholders) and returns its rows. A keep query runs
// through its statement in db.stmts (see sqldialect.Statements), which rebinds it once, when
// it is first prepared.
func (db *DB) queryRows(ctx context.Context, r reuse, query string, args ...any) (*sql.Rows, error) {
	if r == once {
		return db.db.QueryContext(ctx, db.rebind(query), args...)
	}
	st, err := db.stmts.Get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs query (with "?" placeholders) for its first row.
func (db *DB) queryRow(ctx context.Context, r reuse, query string, args ...any) scanner {
	if r == once {
		return db.db.QueryRowContext(ctx, db.rebind(query), args...)
	}
	st, err := db.stmts.Get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// errRow is a row whose statement could not be prepared: scanning it returns the error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
