package issuerdb

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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// dialect names the engine behind a DB.
type dialect string

const (
	sqliteDialect   dialect = "sqlite"
	postgresDialect dialect = "postgres"
)

// ErrBadURL is returned for a database URL that is neither sqlite:PATH nor postgres://….
var ErrBadURL = errors.New("issuerdb: database URL must be sqlite:PATH or postgres://…")

// ErrNoSchema is returned when a read-only database lacks the issuer tables.
var ErrNoSchema = errors.New("issuerdb: the database holds no issuer schema")

//go:embed migrations
var migrations embed.FS

// Options tune Open.
type Options struct {
	// ReadOnly opens the database without ever writing to it (production reads the issuer's
	// read replica): no migrations, and the connection itself refuses writes.
	ReadOnly bool
	// PhoneRegion is the ISO 3166-1 alpha-2 region of phone numbers typed without a country
	// code. Empty means "GB".
	PhoneRegion string
}

// DB is a handle on the issuer's records. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect dialect
	region  string
	// readBudget is defaultReadBudget; tests lower it to run the PostgreSQL name search's
	// fallback on a small portfolio.
	readBudget int
}

// target is a parsed database URL.
type target struct {
	dialect dialect
	path    string // SQLite file
	url     string // PostgreSQL URL
}

func parseURL(raw string) (target, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" {
			return target{}, fmt.Errorf("%w: empty sqlite path", ErrBadURL)
		}
		if strings.ContainsAny(path, "?#") {
			return target{}, fmt.Errorf("%w: a sqlite path must not hold '?' or '#'", ErrBadURL)
		}
		return target{dialect: sqliteDialect, path: path}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return target{}, fmt.Errorf("%w: %v", ErrBadURL, err)
		}
		return target{dialect: postgresDialect, url: raw}, nil
	default:
		return target{}, ErrBadURL
	}
}

// sqliteDSN is the driver data source for a SQLite file. Readers only need a busy timeout;
// read-only connections also ask SQLite to refuse writes.
func sqliteDSN(path string, readOnly bool) string {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=mmap_size(1073741824)&_pragma=cache_size(-65536)"
	if readOnly {
		dsn += "&mode=ro&_pragma=query_only(1)"
	}
	return dsn
}

func openSQL(t target, readOnly bool) (*sql.DB, error) {
	if t.dialect == sqliteDialect {
		db, err := sql.Open("sqlite", sqliteDSN(t.path, readOnly))
		if err != nil {
			return nil, fmt.Errorf("issuerdb: open: %w", err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		return db, nil
	}
	cfg, err := pgx.ParseConfig(t.url)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	return db, nil
}

// Open connects to the issuer database named by rawURL ("sqlite:PATH" or "postgres://…").
// Unless opts.ReadOnly is set, it brings the schema up to date first.
//
// On SQLite the name index (customer_fts over name_order) is built by the search migration
// over the rows present then, which Seed arranges by loading before it: a SQLite issuer
// database is a snapshot written by Seed, not a table other programs keep writing to. On
// PostgreSQL a trigger keeps the name index current.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	sqldb, err := openSQL(t, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("issuerdb: connect: %w", err)
	}
	region := strings.ToUpper(opts.PhoneRegion)
	if region == "" {
		region = "GB"
	}
	db := &DB{db: sqldb, dialect: t.dialect, region: region, readBudget: defaultReadBudget}
	if !opts.ReadOnly {
		if err := migrate(ctx, sqldb, t.dialect, 0); err != nil {
			sqldb.Close()
			return nil, err
		}
	}
	if err := db.checkSchema(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// Close releases the connections.
func (db *DB) Close() error { return db.db.Close() }

// checkSchema makes a read-only open fail at start, not at the first search.
func (db *DB) checkSchema(ctx context.Context) error {
	var n int
	err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM customers LIMIT 1) AS t").Scan(&n)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoSchema, err)
	}
	return nil
}

func newProvider(sqldb *sql.DB, d dialect) (*goose.Provider, error) {
	dir, err := fs.Sub(migrations, "migrations/"+string(d))
	if err != nil {
		return nil, fmt.Errorf("issuerdb: migrations: %w", err)
	}
	// The issuer schema keeps its own version table so it can share a database with the
	// dashboard's store without the two goose histories colliding.
	p, err := sqldialect.Migrations(sqldb, d == postgresDialect, dir, "issuerdb_schema_version")
	if err != nil {
		return nil, fmt.Errorf("issuerdb: migrations: %w", err)
	}
	return p, nil
}

// migrate applies migrations up to version (0: all of them).
func migrate(ctx context.Context, sqldb *sql.DB, d dialect, version int64) error {
	p, err := newProvider(sqldb, d)
	if err != nil {
		return err
	}
	if version > 0 {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("issuerdb: migrate: %w", err)
	}
	return nil
}

// migrateDownTo rolls the schema back to version.
func migrateDownTo(ctx context.Context, sqldb *sql.DB, d dialect, version int64) error {
	p, err := newProvider(sqldb, d)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("issuerdb: migrate down: %w", err)
	}
	return nil
}

// rebind turns "?" placeholders into "$1, $2, …" for PostgreSQL.
func (db *DB) rebind(q string) string {
	if db.dialect != postgresDialect {
		return q
	}
	return sqldialect.Rebind(q)
}

// Ping says whether the database answers, for readiness checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("issuerdb: ping: %w", err)
	}
	return nil
}
