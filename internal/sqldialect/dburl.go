package sqldialect

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Engine names a database engine ctpdesk runs on.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// ErrBadURL is returned for a database URL that is neither sqlite:PATH nor postgres://….
var ErrBadURL = errors.New("database URL must be sqlite:PATH or postgres://…")

// Target is a parsed database URL: a SQLite file or a PostgreSQL connection URL.
type Target struct {
	Engine Engine
	Path   string // the SQLite file
	URL    string // the PostgreSQL URL
}

// ParseURL reads a database setting: "sqlite:PATH" (also "sqlite://PATH") or
// "postgres://…" / "postgresql://…". Both databases of ctpdesk are named this way.
func ParseURL(raw string) (Target, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" {
			return Target{}, fmt.Errorf("%w: empty sqlite path", ErrBadURL)
		}
		if strings.ContainsAny(path, "?#") {
			return Target{}, fmt.Errorf("%w: a sqlite path must not hold '?' or '#'", ErrBadURL)
		}
		return Target{Engine: SQLite, Path: path}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return Target{}, fmt.Errorf("%w: %v", ErrBadURL, err)
		}
		if _, err := pgx.ParseConfig(raw); err != nil {
			return Target{}, fmt.Errorf("%w: %v", ErrBadURL, err)
		}
		return Target{Engine: Postgres, URL: raw}, nil
	default:
		return Target{}, ErrBadURL
	}
}

// OpenOptions shape a connection pool.
type OpenOptions struct {
	// SQLiteParams is the DSN query for a SQLite file (pragmas, mode), without the '?'.
	SQLiteParams string
	// ReadOnly makes every PostgreSQL transaction read-only; for SQLite put mode=ro and
	// query_only in SQLiteParams.
	ReadOnly bool
	// MaxConns bounds the pool (open and idle alike); 0 leaves database/sql's default.
	MaxConns int
}

// Open returns a pool on t. It does not connect: callers ping with their own deadline.
func Open(t Target, o OpenOptions) (*sql.DB, error) {
	var db *sql.DB
	switch t.Engine {
	case SQLite:
		dsn := "file:" + t.Path
		if o.SQLiteParams != "" {
			dsn += "?" + o.SQLiteParams
		}
		var err error
		if db, err = sql.Open("sqlite", dsn); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	case Postgres:
		cfg, err := pgx.ParseConfig(t.URL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
		}
		if o.ReadOnly {
			cfg.RuntimeParams["default_transaction_read_only"] = "on"
		}
		db = stdlib.OpenDB(*cfg)
	default:
		return nil, ErrBadURL
	}
	if o.MaxConns > 0 {
		db.SetMaxOpenConns(o.MaxConns)
		db.SetMaxIdleConns(o.MaxConns)
	}
	return db, nil
}
