// Package store opens the dashboard's own database (sessions, the audit trail) from a URL,
// "sqlite:PATH" or "postgres://…", and brings its schema up to date with goose migrations.
// Each feature owns its own numbered migration files, one set per dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

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

// ErrBadURL is returned for a database URL that is neither sqlite: nor postgres://.
var ErrBadURL = errors.New("store: database URL must be sqlite:PATH or postgres://…")

// ParseURL splits a database URL into its dialect and the driver's data source name. SQLite
// files get WAL, a busy timeout, foreign keys and synchronous=FULL, so a committed row survives
// a crash of the process or the machine.
func ParseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(raw, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("%w: empty sqlite path", ErrBadURL)
		}
		if strings.ContainsAny(path, "?#") {
			return "", "", fmt.Errorf("%w: sqlite path must not hold '?' or '#'", ErrBadURL)
		}
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
		return SQLite, dsn, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("%w: %v", ErrBadURL, err)
		}
		return Postgres, raw, nil
	default:
		return "", "", ErrBadURL
	}
}

// Open connects to the database named by rawURL and applies every pending migration.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	dialect, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	driver := "sqlite"
	if dialect == Postgres {
		driver = "pgx"
	}
	sqldb, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if dialect == SQLite {
		// One writer at a time is all SQLite allows; a small pool keeps readers concurrent
		// under WAL without piling up writers on the lock.
		sqldb.SetMaxOpenConns(8)
	} else {
		sqldb.SetMaxOpenConns(20)
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
