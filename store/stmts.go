package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Prepared returns query, rebound for the dialect, prepared once for the life of db (see
// sqldialect.Statements). Use it for the statements that run on every request (sessions, the
// audit append); one-off queries gain nothing from it. Inside a transaction, run the statement
// through tx.StmtContext, which reuses the connection's prepared copy. The statements are
// closed with db; afterwards Prepared fails with sqldialect.ErrClosed.
func (db *DB) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := db.stmts.Get(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	return st, nil
}
