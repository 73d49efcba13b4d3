// Package sqldialect holds what ctpdesk's two databases (the dashboard's store and the issuer
// records) do alike on SQLite and PostgreSQL: one query text for both engines, and schema
// migrations with goose that several processes may start at once.
package sqldialect

import (
	"database/sql"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Rebind turns the "?" placeholders of a query into PostgreSQL's "$1, $2, …". Queries are
// written once with "?", which SQLite takes as they are.
func Rebind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migrations returns the goose provider for the migrations in dir. table names goose's version
// table ("" for goose's default), so two schemas can share one database. On PostgreSQL an
// advisory lock lets one of several processes starting together migrate while the others
// wait; on SQLite the database's write lock does the same.
func Migrations(db *sql.DB, postgres bool, dir fs.FS, table string) (*goose.Provider, error) {
	d := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if table != "" {
		opts = append(opts, goose.WithTableName(table))
	}
	if postgres {
		d = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(d, db, dir, opts...)
}
