package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// riverMigrationLock is the PostgreSQL advisory lock key under which one replica applies
// River's migrations while the others wait: rivermigrate takes no lock of its own. The value is
// arbitrary but fixed ("ctpriver" in ASCII).
const riverMigrationLock int64 = 0x6374707269766572

// Pool is a pgx pool on the PostgreSQL database, for River's pgx driver; nil on SQLite.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// QueueSQLite is the single-connection handle River's SQLite driver works on; nil on
// PostgreSQL.
func (db *DB) QueueSQLite() *sql.DB { return db.queue }

// migrateRiver applies River's own migrations (its job, leader and queue tables) after the
// dashboard's: on PostgreSQL under an advisory lock, so replicas starting together do not race;
// on SQLite in one transaction, under the write lock BEGIN IMMEDIATE takes.
func (db *DB) migrateRiver(ctx context.Context) error {
	if db.pool != nil {
		m, err := rivermigrate.New(riverpgxv5.New(db.pool), nil)
		if err != nil {
			return fmt.Errorf("store: river migrations: %w", err)
		}
		// River's migrations cannot share one transaction (one adds an enum value that a later
		// one uses), so the lock is a session lock held on a connection of its own while
		// rivermigrate runs each version in its own transaction.
		conn, err := db.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("store: river migrations: %w", err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", riverMigrationLock); err != nil {
			return fmt.Errorf("store: river migrations: lock: %w", err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrationLock) //nolint:errcheck // the lock also ends with the session
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("store: river migrate: %w", err)
		}
		return nil
	}
	m, err := rivermigrate.New(riversqlite.New(db.queue), nil)
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	tx, err := db.queue.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// One transaction under SQLite's write lock is what keeps two processes starting on one
	// file from applying a version twice; River's SQLite migrations have no step that cannot
	// share it (the reason MigrateTx is deprecated is PostgreSQL's enum change, above).
	//lint:ignore SA1019 see above
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	return nil
}
