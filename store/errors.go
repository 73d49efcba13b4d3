package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrUnavailable marks a failure of the dashboard database itself rather than of the query:
// it is locked or busy past the caller's deadline, read-only, full, failing its I/O or out of
// reach. The same operation may well succeed later; until then whatever needed it is refused
// with a 503, never shown without its audit record and never reported as a bug.
var ErrUnavailable = errors.New("store: dashboard database unavailable")

// Classify returns err marked with ErrUnavailable when it is such a failure, and err as it is
// otherwise: a constraint violation, a syntax error or a missing table is a defect to be
// fixed, not an outage to wait out. nil stays nil.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// unavailable reports whether err says the database cannot serve now.
func unavailable(err error) bool {
	// The deadline is ours: the caller bounded its wait (a lock held elsewhere, a server
	// not answering) and the database did not make it in time.
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return sqliteUnavailable(se.Code())
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return postgresUnavailable(pe.Code)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone)
}

// sqliteUnavailable reads a SQLite result code. Extended codes (SQLITE_BUSY_SNAPSHOT,
// SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, …) carry their primary code in the low byte.
func sqliteUnavailable(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, // another connection holds the write lock past busy_timeout
		sqlite3.SQLITE_LOCKED,    // a conflicting lock inside this connection's shared cache
		sqlite3.SQLITE_READONLY,  // file or file system read-only, or query_only
		sqlite3.SQLITE_FULL,      // the disk (or max_page_count) is full
		sqlite3.SQLITE_IOERR,     // the operating system reported an I/O error
		sqlite3.SQLITE_CANTOPEN,  // the file (or its -wal, -shm) cannot be opened
		sqlite3.SQLITE_NOMEM,     // out of memory
		sqlite3.SQLITE_INTERRUPT, // the call was interrupted when its context ended
		sqlite3.SQLITE_PROTOCOL:  // the WAL lock protocol kept failing
		return true
	}
	return false
}

// postgresUnavailable reads a PostgreSQL SQLSTATE.
func postgresUnavailable(code string) bool {
	switch code {
	case pgerrcode.ReadOnlySQLTransaction, // default_transaction_read_only, a hot standby
		pgerrcode.LockNotAvailable,     // lock_timeout
		pgerrcode.SerializationFailure, // a conflicting transaction won
		pgerrcode.DeadlockDetected,
		pgerrcode.IOError:
		return true
	}
	// Class 08: the connection broke; 53: disk full, out of memory, too many connections;
	// 57: statement_timeout, administrator or crash shutdown, server starting up.
	return pgerrcode.IsConnectionException(code) || pgerrcode.IsInsufficientResources(code) ||
		pgerrcode.IsOperatorIntervention(code)
}
