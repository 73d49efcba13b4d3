package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ctpdesk/internal/pgtest"
)

func TestOpenRefusesWhatIsNotADatabaseURL(t *testing.T) {
	for _, raw := range []string{"", "mysql://x", "sqlite:", "sqlite://", "sqlite:/tmp/a.db?mode=memory", "sqlite:a#b", "file:x.db", "postgres://%zz"} {
		if _, err := Open(context.Background(), raw); !errors.Is(err, ErrBadURL) {
			t.Errorf("Open(%q) = %v, want ErrBadURL", raw, err)
		}
	}
}

func TestSQLiteIsDurable(t *testing.T) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || !strings.EqualFold(got, want) {
			t.Errorf("PRAGMA %s = %q, %v; want %s", pragma, got, err, want)
		}
	}
}

// Every connection, the pool's and the write queue's, keeps the small page cache.
func TestSQLiteConnectionsKeepASmallPageCache(t *testing.T) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, conn := range map[string]interface {
		QueryRow(string, ...any) *sql.Row
	}{"pool": db.DB, "write queue": db.queue} {
		var got string
		if err := conn.QueryRow("PRAGMA cache_size").Scan(&got); err != nil || got != "-"+sqliteCacheKiB {
			t.Errorf("%s: PRAGMA cache_size = %q, %v; want -%s (KiB)", name, got, err, sqliteCacheKiB)
		}
	}
}

func TestRebind(t *testing.T) {
	pg := &DB{Dialect: Postgres}
	if got := pg.Rebind("a = ? AND b = ?"); got != "a = $1 AND b = $2" {
		t.Errorf("postgres: %q", got)
	}
	lite := &DB{Dialect: SQLite}
	if got := lite.Rebind("a = ?"); got != "a = ?" {
		t.Errorf("sqlite: %q", got)
	}
}

func TestOpenMigratesSQLiteOnceAndAgain(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	for range 2 {
		db, err := Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow("SELECT count(*) FROM ctpdesk_meta").Scan(&n); err != nil {
			t.Fatalf("schema missing after Open: %v", err)
		}
		db.Close()
	}
}

// Replicas starting together against one empty PostgreSQL database must not race on the
// migrations: the advisory lock lets one migrate while the others wait.
func TestConcurrentOpenOnPostgresMigratesOnce(t *testing.T) {
	url := pgtest.URL(t, "ctpdesk_store_test")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := Open(context.Background(), url)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
}

// River's tables come with the dashboard's schema, on both engines, and a second Open (another
// replica, a restart) finds them already there.
func TestOpenAppliesRiverMigrations(t *testing.T) {
	urls := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "app.db")}
	if pgtest.Configured(t) {
		urls["postgres"] = pgtest.URL(t, "ctpdesk_store_river")
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			for range 2 {
				db, err := Open(context.Background(), url)
				if err != nil {
					t.Fatal(err)
				}
				var n int
				if err := db.QueryRow("SELECT count(*) FROM river_job").Scan(&n); err != nil {
					t.Fatalf("river_job missing after Open: %v", err)
				}
				var versions int
				if err := db.QueryRow("SELECT count(*) FROM river_migration").Scan(&versions); err != nil || versions == 0 {
					t.Fatalf("river_migration holds %d versions, %v", versions, err)
				}
				db.Close()
			}
		})
	}
}
