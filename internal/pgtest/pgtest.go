// Package pgtest gives a test a PostgreSQL database of its own on the server named by
// CTPDESK_TEST_POSTGRES_URL, and drops it when the test ends. Without that variable the test is
// skipped, except in CI (CI set to any value), where a missing PostgreSQL fails it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvVar names the variable that points the tests at a PostgreSQL server.
const EnvVar = "CTPDESK_TEST_POSTGRES_URL"

// Configured reports whether a PostgreSQL server is configured for the tests. In CI a missing
// server fails the test instead, so callers may run their SQLite half and return otherwise.
func Configured(tb testing.TB) bool {
	tb.Helper()
	if os.Getenv(EnvVar) != "" {
		return true
	}
	if inCI() {
		tb.Fatal(EnvVar + " is not set but CI is: PostgreSQL tests must run in CI")
	}
	return false
}

// inCI reports whether this is a CI run. CI services set CI to "true", "1" or another word;
// any value counts, so no spelling lets a missing server turn the PostgreSQL tests into skips.
func inCI() bool {
	return os.Getenv("CI") != ""
}

// URL creates a uniquely named database (its name starts with prefix) and returns its URL.
func URL(tb testing.TB, prefix string) string {
	tb.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		if inCI() {
			tb.Fatal(EnvVar + " is not set but CI is: PostgreSQL tests must run in CI")
		}
		tb.Skip(EnvVar + " not set: PostgreSQL not tested")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := prefix + "_" + hex.EncodeToString(suffix)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
