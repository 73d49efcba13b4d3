// Package dbfault breaks a running database the ways production databases break, for tests of
// what ctpdesk does then: a SQLite file locked by another writer, made read-only or full, and
// a PostgreSQL database switched to read-only transactions. Each fault lasts until the returned
// function lifts it or the test ends.
package dbfault

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// timeout bounds each step of setting up or lifting a fault.
const timeout = 30 * time.Second

// LockSQLite takes the write lock of the SQLite database at path from a connection of its own
// (BEGIN EXCLUSIVE) and holds it, as a long transaction of another process would. In WAL mode
// readers go on; every writer waits for the lock.
func LockSQLite(tb testing.TB, path string) (release func()) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		tb.Fatalf("dbfault: lock %s: %v", path, err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		conn.Close()
		db.Close()
		tb.Fatalf("dbfault: lock %s: %v", path, err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			db.Close()
		})
	}
	tb.Cleanup(release)
	return release
}

// ReadOnlySQLite makes every connection of pool refuse writes (PRAGMA query_only), as a file
// system remounted read-only would: reads go on, every write fails with SQLITE_READONLY.
func ReadOnlySQLite(tb testing.TB, pool *sql.DB) (restore func()) {
	tb.Helper()
	onEveryConn(tb, pool, "PRAGMA query_only = 1")
	return once(tb, func() { onEveryConn(tb, pool, "PRAGMA query_only = 0") })
}

// FullSQLite makes the SQLite database behind pool full, as a full disk would: it packs the
// file (VACUUM leaves no free page and fills the b-tree pages), then caps every connection of
// the pool at the pages the file has now (PRAGMA max_page_count), so any write that needs one
// more page fails with SQLITE_FULL. A write that still fits in a page goes through; callers
// that must see every write fail keep writing until they do.
func FullSQLite(tb testing.TB, pool *sql.DB) (restore func()) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := pool.ExecContext(ctx, "VACUUM"); err != nil {
		tb.Fatalf("dbfault: vacuum: %v", err)
	}
	var pages int64
	if err := pool.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		tb.Fatalf("dbfault: page_count: %v", err)
	}
	onEveryConn(tb, pool, fmt.Sprintf("PRAGMA max_page_count = %d", pages))
	// 1073741823 is SQLite's default limit.
	return once(tb, func() { onEveryConn(tb, pool, "PRAGMA max_page_count = 1073741823") })
}

// ReadOnlyPostgres makes the PostgreSQL database behind pool default to read-only
// transactions (ALTER DATABASE … SET default_transaction_read_only), as a failover onto a
// standby would, and drops the pool's idle connections so the next ones start under it. The
// role connected must own the database or be a superuser.
func ReadOnlyPostgres(tb testing.TB, pool *sql.DB) (restore func()) {
	tb.Helper()
	setReadOnlyDefault(tb, pool, "SET default_transaction_read_only = on")
	return once(tb, func() { setReadOnlyDefault(tb, pool, "RESET default_transaction_read_only") })
}

func setReadOnlyDefault(tb testing.TB, pool *sql.DB, change string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pool.Conn(ctx)
	if err != nil {
		tb.Fatalf("dbfault: %v", err)
	}
	defer conn.Close()
	// A connection opened under the read-only default could not run the ALTER; this one's
	// own setting is switched off first (it is closed with the others just below).
	var name string
	if _, err := conn.ExecContext(ctx, "SET default_transaction_read_only = off"); err != nil {
		tb.Fatalf("dbfault: %v", err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
		tb.Fatalf("dbfault: current database: %v", err)
	}
	ident := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+ident+" "+change); err != nil {
		tb.Fatalf("dbfault: alter database: %v", err)
	}
	conn.Close()
	recycle(pool)
}

// recycle closes the pool's idle connections, so the next queries open new ones.
func recycle(pool *sql.DB) {
	n := pool.Stats().MaxOpenConnections
	pool.SetMaxIdleConns(0)
	pool.SetMaxIdleConns(max(n, 2))
}

// onEveryConn runs stmt on every connection pool can hold. It takes them all at once, so the
// pool has to open as many as it may keep and none is skipped; SQLite pragmas are settings of
// one connection, so this is how a whole pool gets one. The pool must keep as many idle
// connections as it opens (store.Open sets it so), or the ones set up would be closed and
// replaced by fresh ones.
func onEveryConn(tb testing.TB, pool *sql.DB, stmt string) {
	tb.Helper()
	n := pool.Stats().MaxOpenConnections
	if n <= 0 {
		tb.Fatal("dbfault: the pool has no connection limit, so its connections cannot all be reached")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := pool.Conn(ctx)
		if err != nil {
			tb.Fatalf("dbfault: take connection %d of %d: %v", len(conns)+1, n, err)
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			tb.Fatalf("dbfault: %s: %v", stmt, err)
		}
	}
}

// once returns fn as a function that runs it at most once, and runs it at the end of the test
// if nobody did before.
func once(tb testing.TB, fn func()) func() {
	var o sync.Once
	f := func() { o.Do(fn) }
	tb.Cleanup(f)
	return f
}
