// Package sqlplan reads the plan a database would run a query with, for the tests that check
// a query reads the index made for it instead of a whole table.
package sqlplan

import (
	"context"
	"database/sql"
	"fmt"

	"ctpdesk/internal/sqldialect"
)

// Querier runs a query: a *sql.DB, *sql.Conn or *sql.Tx. Explain on a *sql.Conn to see the
// plan under settings made on that connection (SET enable_seqscan = off).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Explain returns the plan of query run with args on engine, one line per step: the detail
// column of SQLite's EXPLAIN QUERY PLAN, or the lines of PostgreSQL's EXPLAIN.
func Explain(ctx context.Context, q Querier, engine sqldialect.Engine, query string, args ...any) ([]string, error) {
	explain := "EXPLAIN QUERY PLAN "
	if engine == sqldialect.Postgres {
		explain = "EXPLAIN "
	}
	rows, err := q.QueryContext(ctx, explain+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlplan: explain %s: %w", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if engine == sqldialect.Postgres {
			err = rows.Scan(&line)
		} else {
			var id, parent, unused int
			err = rows.Scan(&id, &parent, &unused, &line)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlplan: explain %s: %w", query, err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlplan: explain %s: %w", query, err)
	}
	return plan, nil
}
