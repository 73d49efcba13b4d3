package issuerdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// ErrAlreadySeeded is returned by Seed when the target database already holds customers.
var ErrAlreadySeeded = errors.New("issuerdb: the database already holds customers")

// MaxSeedCustomers bounds a synthetic portfolio (the customer id format holds 8 digits).
const MaxSeedCustomers = 99_999_999

// Seed writes the synthetic portfolio of n customers generated from seed into the database
// at rawURL, which must hold no customers yet. Rows are bulk-loaded first and the indexes
// built afterwards. A SQLite portfolio is written to a temporary file renamed into place at
// the end, so an interrupted seed never leaves a half-filled file behind.
func Seed(ctx context.Context, rawURL string, n int, seed int64) error {
	if n < 1 || n > MaxSeedCustomers {
		return fmt.Errorf("issuerdb: seed: customers must be between 1 and %d, not %d", MaxSeedCustomers, n)
	}
	t, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	if t.Engine == sqliteDialect {
		return seedSQLiteFile(ctx, t.Path, n, seed)
	}
	return seedPostgres(ctx, t, n, seed)
}

// EnsureSeeded seeds the database at rawURL with n customers from seed unless it already
// holds customers, and says whether it seeded. `ctpdesk dev` calls it at every start: the
// first start pays for the load, later ones reuse the data.
func EnsureSeeded(ctx context.Context, rawURL string, n int, seed int64) (bool, error) {
	t, err := parseURL(rawURL)
	if err != nil {
		return false, err
	}
	if t.Engine == sqliteDialect {
		if _, err := os.Stat(t.Path); errors.Is(err, os.ErrNotExist) {
			return true, Seed(ctx, rawURL, n, seed)
		}
	}
	has, err := hasCustomers(ctx, t)
	if err != nil || has {
		return false, err
	}
	return true, Seed(ctx, rawURL, n, seed)
}

// hasCustomers opens the database (bringing its schema up to date) and says whether it holds
// any customer.
func hasCustomers(ctx context.Context, t target) (bool, error) {
	sqldb, err := openSQL(t, false)
	if err != nil {
		return false, err
	}
	defer sqldb.Close()
	if err := migrate(ctx, sqldb, t.Engine, 0); err != nil {
		return false, err
	}
	var n int
	err = sqldb.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM customers LIMIT 1) AS t").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("issuerdb: seed: %w", err)
	}
	return n > 0, nil
}

func seedSQLiteFile(ctx context.Context, path string, n int, seed int64) error {
	if _, err := os.Stat(path); err == nil {
		has, err := hasCustomers(ctx, target{Engine: sqliteDialect, Path: path})
		if err != nil {
			return err
		}
		if has {
			return fmt.Errorf("issuerdb: seed %s: %w", path, ErrAlreadySeeded)
		}
	}
	// A name of its own per process: two processes seeding one path at once (the benchmarks
	// of two packages) each write their own file, and the last rename wins with equal rows.
	tmp := fmt.Sprintf("%s.seeding-%d", path, os.Getpid())
	for _, f := range []string{tmp, tmp + "-journal", tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("issuerdb: seed: %w", err)
		}
	}
	if err := loadSQLite(ctx, tmp, n, seed); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	return nil
}

// loadSQLite fills a fresh file. The file is private until renamed, so durability pragmas
// are off while loading: a crash only loses the temporary file.
func loadSQLite(ctx context.Context, path string, n int, seed int64) error {
	dsn := "file:" + path + "?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)" +
		"&_pragma=locking_mode(EXCLUSIVE)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-262144)"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	defer sqldb.Close()
	sqldb.SetMaxOpenConns(1)
	if err := migrate(ctx, sqldb, sqliteDialect, 1); err != nil {
		return err
	}
	if err := insertRows(ctx, sqldb, n, seed); err != nil {
		return err
	}
	if err := migrate(ctx, sqldb, sqliteDialect, 0); err != nil {
		return err
	}
	// Readers of the finished file use a rollback journal: the file is read-mostly and a
	// read-only open then needs no -shm file beside it.
	if _, err := sqldb.ExecContext(ctx, "PRAGMA journal_mode = DELETE"); err != nil {
		return fmt.Errorf("issuerdb: seed: %w", err)
	}
	if _, err := sqldb.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("issuerdb: seed: analyze: %w", err)
	}
	return nil
}
