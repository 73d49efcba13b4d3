package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"ctpdesk/internal/dbfault"
	"ctpdesk/store"
)

// hangGuard is far above the answer time asked for (well under 2 s): it only catches a
// request that waits for the database without bound. Speed itself is not asserted.
const hangGuard = 5 * time.Second

// A signed-in request whose session is due for its last-activity write, while the database
// refuses or stalls writes, is answered 503 by the session middleware, promptly, and never
// reaches the route.
func TestSessionMiddlewareAnswers503WhenTheStoreFails(t *testing.T) {
	faults := map[string]func(t *testing.T, g *guarded){
		"locked": func(t *testing.T, g *guarded) {
			dbfault.LockSQLite(t, sqlitePath(t, g.h.db))
		},
		"read-only": func(t *testing.T, g *guarded) { dbfault.ReadOnlySQLite(t, g.h.db.DB) },
	}
	for name, breakDB := range faults {
		t.Run(name, func(t *testing.T) {
			g := newGuarded(t)
			// The production bound is what this test is about (the harness waits longer).
			g.h.sessions.cfg.DBTimeout = DefaultDBTimeout
			c := g.h.mustLogin(t)
			// The next request is due to move the session's last activity: a write.
			g.h.clock.Advance(touchEvery + time.Second)
			breakDB(t, g)
			start := time.Now()
			w := g.do(httptest.NewRequest(http.MethodGet, "/customers", nil), c)
			took := time.Since(start)
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503 (body %q)", w.Code, w.Body.String())
			}
			if w.Body.String() == "reached" {
				t.Error("the route ran without a session")
			}
			if took > hangGuard {
				t.Errorf("the answer took %s", took)
			}
			t.Logf("%s: 503 after %s", name, took)
		})
	}
}

// The same through the session store alone, on PostgreSQL too: a database switched to
// read-only transactions makes Load fail with ErrUnavailable.
func TestSessionLoadReportsUnavailable(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.mustLogin(t)
		h.clock.Advance(touchEvery + time.Second)
		if h.db.Dialect == store.Postgres {
			dbfault.ReadOnlyPostgres(t, h.db.DB)
		} else {
			dbfault.ReadOnlySQLite(t, h.db.DB)
		}
		_, err := h.load(t, c)
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Load with the database read-only: %v, want ErrUnavailable", err)
		}
	})
}

// A stalled database holds a request no longer than the store's own bound, even when the
// request itself has no deadline.
func TestSessionStoreBoundsItsWait(t *testing.T) {
	h := newHarness(t)
	c := h.mustLogin(t)
	h.sessions.cfg.DBTimeout = 100 * time.Millisecond
	h.clock.Advance(touchEvery + time.Second)
	dbfault.LockSQLite(t, sqlitePath(t, h.db))
	r := httptest.NewRequest(http.MethodGet, "/customers", nil).WithContext(context.Background())
	r.AddCookie(c)
	start := time.Now()
	_, err := h.sessions.Load(r)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Load with the database locked: %v, want ErrUnavailable after the deadline", err)
	}
	if took := time.Since(start); took > hangGuard {
		t.Errorf("Load waited %s", took)
	}
}

// sqlitePath returns the file behind a SQLite store.
func sqlitePath(t *testing.T, db *store.DB) string {
	t.Helper()
	var path string
	if err := db.QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(path) {
		t.Fatalf("database file %q is not an absolute path", path)
	}
	return path
}
