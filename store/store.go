// Package store opens the dashboard's own database (sessions, the audit trail, portfolio scans)
// from a URL, "sqlite:PATH" or "postgres://…", and brings its schema up to date: the dashboard's
// goose migrations, then River's (the job queue the portfolio scan runs on, see river.go). Each
// feature owns its own numbered migration files, one set per dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"ctpdesk/internal/sqldialect"

	"github.com/jackc/pgx/v5/pgxpool"
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
	// pool is a pgx pool on the same PostgreSQL database (nil on SQLite), for River's pgx
	// driver.
	pool *pgxpool.Pool
	// queue is a second handle on the SQLite file with a single connection, for River (nil on
	// PostgreSQL): its SQLite driver runs several internal operations at once, which a pool of
	// one serialises instead of meeting SQLITE_BUSY.
	queue *sql.DB
	// stmts are the hot statements, prepared once (see Prepared).
	stmts *sqldialect.Statements
}

//go:embed migrations
var migrations embed.FS

// ErrBadURL is returned for a database URL that is neither sqlite:PATH nor postgres://….
var ErrBadURL = sqldialect.ErrBadURL

// sqliteParams are the dashboard database's SQLite settings: WAL with full fsync, so a
// committed audit event survives a crash, BEGIN IMMEDIATE so writers queue on the lock
// instead of failing on upgrade, and a page cache of 1 MiB per connection instead of SQLite's
// 2 MB. Each of the nine connections (the pool and the write queue) keeps a cache of its own,
// costing about twice its size in this build's allocator; what they read most (sessions, the
// chain head, the newest audit pages) fits in 1 MiB, and the kernel's page cache holds the
// rest. Under 200 signed-in users the smaller caches took the process's memory outside the Go
// runtime from 59 to 48 MiB at the same request rate (docs/MEASUREMENTS.md).
const sqliteParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate&_pragma=cache_size(-" + sqliteCacheKiB + ")"

// sqliteCacheKiB is each SQLite connection's page cache, in KiB.
const sqliteCacheKiB = "1024"

// Open connects to the database named by rawURL and applies every pending migration.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	t, err := sqldialect.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := open(t)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrateRiver(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// open builds the handles on t without connecting.
func open(t sqldialect.Target) (*DB, error) {
	if t.Engine == sqldialect.Postgres {
		sqldb, err := sqldialect.Open(t, sqldialect.OpenOptions{MaxConns: 20})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		// River's pgx driver needs a pgx pool; it has connections of its own (leader
		// election, job fetches and the LISTEN connection each hold one), apart from the
		// dashboard's, so a session setting of one never leaks into the other.
		cfg, err := pgxpool.ParseConfig(t.URL)
		if err != nil {
			sqldb.Close()
			return nil, fmt.Errorf("store: %w: %v", ErrBadURL, err)
		}
		cfg.MaxConns = 8
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			sqldb.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
		return &DB{DB: sqldb, Dialect: Postgres, pool: pool, stmts: sqldialect.NewStatements(sqldb, sqldialect.Rebind)}, nil
	}
	sqldb, err := sqldialect.Open(t, sqldialect.OpenOptions{SQLiteParams: sqliteParams, MaxConns: 8})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	queue, err := sqldialect.Open(t, sqldialect.OpenOptions{SQLiteParams: sqliteParams, MaxConns: 1})
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return &DB{DB: sqldb, Dialect: SQLite, queue: queue, stmts: sqldialect.NewStatements(sqldb, nil)}, nil
}

// Close releases every connection.
func (db *DB) Close() error {
	err := errors.Join(db.stmts.Close(), db.DB.Close())
	if db.queue != nil {
		err = errors.Join(err, db.queue.Close())
	}
	if db.pool != nil {
		db.pool.Close()
	}
	return err
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
