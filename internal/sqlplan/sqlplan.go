// Package sqlplan reads the plan a database would run a query with, for the tests that check
// a query reads the index made for it instead of a whole table.
package sqlplan

import (
	"context"
	"database/sql"
	"encoding/json"
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

// RowsRead runs query with args under PostgreSQL's EXPLAIN ANALYZE and returns, over every
// scan of relation in the plan, how many rows the scans kept and how many they read and threw
// away (Rows Removed by Filter): what a query passes on its way to the rows it wants.
func RowsRead(ctx context.Context, q Querier, relation, query string, args ...any) (kept, removed int, err error) {
	rows, err := q.QueryContext(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+query, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlplan: explain analyze %s: %w", query, err)
	}
	defer rows.Close()
	var out []byte
	if rows.Next() {
		err = rows.Scan(&out)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("sqlplan: explain analyze %s: %w", query, err)
	}
	type node struct {
		Relation string  `json:"Relation Name"`
		Rows     float64 `json:"Actual Rows"`
		Removed  float64 `json:"Rows Removed by Filter"`
		Plans    []node
	}
	var plans []struct{ Plan node }
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		return 0, 0, fmt.Errorf("sqlplan: explain analyze %s: a plan PostgreSQL did not write: %q (%v)", query, out, err)
	}
	var walk func(n node)
	walk = func(n node) {
		if n.Relation == relation {
			kept, removed = kept+int(n.Rows), removed+int(n.Removed)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	return kept, removed, nil
}
