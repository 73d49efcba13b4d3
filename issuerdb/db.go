package issuerdb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync/atomic"

	"ctpdesk/internal/sqldialect"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// dialect names the engine behind a DB.
type dialect = sqldialect.Engine

const (
	sqliteDialect   = sqldialect.SQLite
	postgresDialect = sqldialect.Postgres
)

// ErrBadURL is returned for a database URL that is neither sqlite:PATH nor postgres://….
var ErrBadURL = sqldialect.ErrBadURL

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
	// Searches is how many searches run at once; a search beyond them waits for a turn (see
	// DB.Search). 0 means DefaultSearches.
	Searches int
}

// DefaultSearches is how many searches run at once unless Options.Searches says otherwise:
// two per CPU the process may use, so that a search's statements keep the CPUs busy while
// another waits on a page or a round trip, and a burst queues for a turn instead of sharing
// the CPUs among all of its searches.
func DefaultSearches() int { return 2 * runtime.GOMAXPROCS(0) }

// DB is a handle on the issuer's records. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	stmts   *sqldialect.Statements
	dialect dialect
	region  string
	// countBudget is defaultCountBudget; tests lower it to run the PostgreSQL name count's
	// lower bound on a small portfolio.
	countBudget int
	// countCap is CountCap; tests lower it to count past the cap on a small portfolio.
	countCap int
	// maxWrittenOut is defaultMaxWrittenOut; tests lower it to keep long prefixes of a small
	// portfolio as prefixes in the SQLite name count.
	maxWrittenOut int
	// maxRunWords is defaultMaxRunWords and sparseRunRows defaultSparseRunRows; tests lower
	// them to read the prefixes of a small portfolio as one run on PostgreSQL.
	maxRunWords   int
	sparseRunRows int
	// turns holds one token per search running (Options.Searches of them at most); waiting
	// counts the searches waiting for one.
	turns   chan struct{}
	waiting atomic.Int64
}

// target is a parsed database URL.
type target = sqldialect.Target

// parseURL reads the issuer database's URL.
func parseURL(raw string) (target, error) {
	t, err := sqldialect.ParseURL(raw)
	if err != nil {
		return target{}, fmt.Errorf("issuerdb: %w", err)
	}
	return t, nil
}

// The memory of a SQLite reader: no memory map, and a page cache of readerCacheKiB per
// connection. Each pooled connection maps the file on its own, so with a map as large as the
// file (1 GiB before) a million-customer portfolio showed its touched pages once per
// connection as resident (3.1 GiB for the pool of 8 as ps counts it, 660 MiB counted once).
// Read with pread instead, the file sits once in the kernel's page cache, shared and
// reclaimable, and each connection keeps only its hottest pages (the roots and upper levels
// of the indexes every search walks) in a cache of its own. A cached page costs SQLite about
// twice its size in this build's allocator, so 1 MiB a connection is about 16 MiB for the
// pool of 8; the 64 MiB each before could grow to a gigabyte, and larger caches did not make
// searches measurably faster (most pages a search reads are leaves no cache of that size
// keeps, and the kernel's page cache serves them).
const (
	readerMmapBytes = 0
	readerCacheKiB  = 1024
)

// sqliteParams are the SQLite settings of a reader: a busy timeout, the memory settings and,
// for read-only connections, SQLite refusing writes.
func sqliteParams(readOnly bool) string {
	return sqliteParamsWith(readOnly, readerMmapBytes, readerCacheKiB)
}

// holdReadLock is added to a read-only reader's settings when the file is a snapshot in a
// rollback-journal mode (what Seed writes). Each connection then takes the file's shared lock
// at its first read and keeps it until it closes, where otherwise every statement took the
// lock, checked for a hot journal, read the file's change counter to learn whether its page
// cache was still good, and let the lock go: three to four system calls a statement, a third
// of a customer-id search on a million customers and 7-11 % of a name search (see
// docs/MEASUREMENTS.md). While ctpdesk runs, a program that tries to write the file in place
// gets SQLITE_BUSY instead of changing pages under a search; a new snapshot is put in place by
// renaming it over the old one and restarting, as before (open connections kept reading the
// file they opened). A file in WAL mode is left as it is: its readers take no file lock a
// statement, and the exclusive mode would change how the file is shared with the dashboard's
// store, which may use the same file.
const holdReadLock = "&_pragma=locking_mode(EXCLUSIVE)"

// sqliteParamsWith are sqliteParams with mmapBytes of the file mapped and a page cache of
// cacheKiB per connection.
func sqliteParamsWith(readOnly bool, mmapBytes int64, cacheKiB int) string {
	p := fmt.Sprintf("_pragma=busy_timeout(10000)&_pragma=mmap_size(%d)&_pragma=cache_size(-%d)", mmapBytes, cacheKiB)
	if readOnly {
		p += "&mode=ro&_pragma=query_only(1)"
	}
	return p
}

func openSQL(t target, readOnly bool) (*sql.DB, error) {
	return openSQLWith(t, readOnly, sqliteParams(readOnly))
}

// openSQLWith is openSQL with params as the SQLite settings.
func openSQLWith(t target, readOnly bool, params string) (*sql.DB, error) {
	maxConns := 8
	if t.Engine == sqldialect.Postgres {
		maxConns = 20
	}
	db, err := sqldialect.Open(t, sqldialect.OpenOptions{SQLiteParams: params, ReadOnly: readOnly, MaxConns: maxConns})
	if err != nil {
		return nil, fmt.Errorf("issuerdb: %w", err)
	}
	return db, nil
}

// connect opens the pool and checks that it reaches the database. A read-only pool on a SQLite
// file in a rollback-journal mode holds its read lock (see holdReadLock).
func connect(ctx context.Context, t target, readOnly bool) (*sql.DB, error) {
	params := sqliteParams(readOnly)
	if t.Engine == sqldialect.SQLite && readOnly {
		mode, err := journalMode(ctx, t, params)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(mode, "wal") {
			params += holdReadLock
		}
	}
	sqldb, err := openSQLWith(t, readOnly, params)
	if err != nil {
		return nil, err
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("issuerdb: connect: %w", err)
	}
	return sqldb, nil
}

// journalMode reads the journal mode of the SQLite file t through a connection of its own
// with params, closed before it returns.
func journalMode(ctx context.Context, t target, params string) (string, error) {
	probe, err := openSQLWith(t, true, params)
	if err != nil {
		return "", err
	}
	defer probe.Close()
	var mode string
	if err := probe.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", fmt.Errorf("issuerdb: connect: %w", err)
	}
	return mode, nil
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
	sqldb, err := connect(ctx, t, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	region := strings.ToUpper(opts.PhoneRegion)
	if region == "" {
		region = "GB"
	}
	db := &DB{db: sqldb, dialect: t.Engine, region: region, countBudget: defaultCountBudget, countCap: CountCap,
		maxWrittenOut: defaultMaxWrittenOut, maxRunWords: defaultMaxRunWords,
		sparseRunRows: defaultSparseRunRows, turns: make(chan struct{}, searches(opts))}
	db.stmts = sqldialect.NewStatements(sqldb, db.rebind)
	if !opts.ReadOnly {
		if err := migrate(ctx, sqldb, t.Engine, 0); err != nil {
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

// searches is how many searches opts lets run at once.
func searches(opts Options) int {
	if opts.Searches > 0 {
		return opts.Searches
	}
	return DefaultSearches()
}

// SearchesWaiting is how many searches are waiting for a turn now.
func (db *DB) SearchesWaiting() int { return int(db.waiting.Load()) }

// Close releases the prepared statements and the connections.
func (db *DB) Close() error {
	return errors.Join(db.stmts.Close(), db.db.Close())
}

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

// rebind writes the "?" placeholders of q as the engine runs them: "$1, $2, …" on PostgreSQL,
// and "+?" on SQLite. SQLite keeps statistics samples of each index (sqlite_stat4, which
// Seed's ANALYZE writes), and when a bare parameter is compared with an indexed column the
// planner looks at its value, marking the statement to be planned again every time that
// parameter is bound: every call would parse and plan its statement twice, prepared or not.
// "+?" is the same value to every operator (unary plus is a no-op of no affinity, as a
// parameter is), but an expression the planner does not look into, so a statement's plan is
// made once, from the per-index averages, and kept (TestSearchPlansUseTheIndexes checks the
// plans).
func (db *DB) rebind(q string) string {
	if db.dialect != postgresDialect {
		return strings.ReplaceAll(q, "?", "+?")
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
