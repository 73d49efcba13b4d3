// Package store opens the dashboard's own database (sessions, the audit trail) from a URL,
// "sqlite:PATH" or "postgres://…", and brings its schema up to date with goose migrations.
// Each feature owns its own numbered migration files, one set per dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"ctpdesk/internal/sqldialect"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names the database engine behind a DB.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the dashboard's database handle with the dialect the SQL must be written for.
type DB struct {
	*sql.DB
	Dialect Dialect
}

//go:embed migrations
var migrations embed.FS

// ErrBadURL is returned for a database URL that is neither sqlite:PATH nor postgres://….
var ErrBadURL = sqldialect.ErrBadURL

// sqliteParams are the dashboard database's SQLite settings: WAL with full fsync, so a
// committed audit event survives a crash, and BEGIN IMMEDIATE so writers queue on the lock
// instead of failing on upgrade.
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"

// Open connects to the database named by rawURL and applies every pending migration.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	t, err := sqldialect.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	dialect, maxConns := SQLite, 8
	if t.Engine == sqldialect.Postgres {
		dialect, maxConns = Postgres, 20
	}
	sqldb, err := sqldialect.Open(t, sqldialect.OpenOptions{SQLiteParams: sqliteParams, MaxConns: maxConns})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	db := &DB{DB: sqldb, Dialect: dialect}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate(ctx context.Context) error {
	dir, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := sqldialect.Migrations(db.DB, db.Dialect == Postgres, dir, "")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Rebind turns the "?" placeholders of a query into "$1, $2, …" for PostgreSQL, so one query
// text serves both dialects.
func (db *DB) Rebind(query string) string {
	if db.Dialect != Postgres {
		return query
	}
	return sqldialect.Rebind(query)
}
