package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// otherInstance is a second ctpdesk instance on the harness's database: its own connections,
// its own session store and whatever that store keeps in memory, as another replica has.
func (h *harness) otherInstance(tb testing.TB) *SessionStore {
	tb.Helper()
	return NewSessionStore(openTestDB(tb, h.dbURL), SessionConfig{Secure: true, Now: h.clock.Now, Roles: testRoles, DBTimeout: 30 * time.Second})
}

func loadOn(tb testing.TB, s *SessionStore, c *http.Cookie) *Session {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/customers", nil)
	r.AddCookie(c)
	sess, err := s.Load(r)
	if err != nil {
		tb.Fatal(err)
	}
	return sess
}

// A session signed out on one instance is refused by another sharing the database at its very
// next request, although that instance served the session a moment before.
func TestSignOutOnOneInstanceIsHonouredAtOnceByAnother(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		other := h.otherInstance(t)
		c := h.mustLogin(t)
		for range 2 {
			if _, ok := loadOn(t, other, c).User(); !ok {
				t.Fatal("the other instance does not know the signed-in session")
			}
		}
		r := httptest.NewRequest(http.MethodPost, "https://ctpdesk.bank.example/logout", nil)
		r.AddCookie(c)
		if _, _, ok, err := h.auth.Logout(httptest.NewRecorder(), r); err != nil || !ok {
			t.Fatalf("Logout = %v, %v", ok, err)
		}
		wantAnonymous(t, loadOn(t, other, c))
	})
}

// What one instance writes into a session (a re-check's new groups) is what another sees at
// the next request, not what it decoded before.
func TestSessionChangedOnOneInstanceIsSeenAtOnceByAnother(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		other := h.otherInstance(t)
		c := h.mustLogin(t)
		u, ok := loadOn(t, other, c).User()
		if !ok || !slices.Equal(u.Roles, []Role{RoleAgent}) {
			t.Fatalf("before: %+v, %v; want an agent", u, ok)
		}
		ctx := context.Background()
		idHash := hashToken(c.Value)
		var raw string
		if err := h.db.QueryRowContext(ctx, h.db.Rebind("SELECT data FROM auth_sessions WHERE id_hash = ?"), idHash).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		d["groups"] = []string{"fraud-analysts"}
		changed, _ := json.Marshal(d)
		if _, err := h.db.ExecContext(ctx, h.db.Rebind("UPDATE auth_sessions SET data = ? WHERE id_hash = ?"), string(changed), idHash); err != nil {
			t.Fatal(err)
		}
		u, ok = loadOn(t, other, c).User()
		if !ok || !slices.Equal(u.Roles, []Role{RoleFraud}) {
			t.Errorf("after: %+v, %v; want a fraud analyst", u, ok)
		}
	})
}

// What a request does to its copy of the session never reaches the next request's.
func TestDecodedSessionIsEachRequestsOwn(t *testing.T) {
	h := newHarness(t)
	c := h.mustLogin(t)
	first := loadOn(t, h.sessions, c)
	first.data().Groups[0] = "it-audit"
	first.data().CSRF = "changed"
	second := loadOn(t, h.sessions, c)
	if u, _ := second.User(); !slices.Equal(u.Roles, []Role{RoleAgent}) || second.CSRFToken() == "changed" {
		t.Errorf("the second request sees the first one's changes: %+v, csrf %q", u, second.CSRFToken())
	}
}

// The decoded rows stay within their bound however many sessions come by, and a row that does
// not decode is an error, not a cached value.
func TestDecodedRowsAreBounded(t *testing.T) {
	c := newDecodedRows(2)
	for _, id := range []string{"a", "b", "c", "d"} {
		if _, err := c.decode(id, `{"user":{"sub":"`+id+`"},"groups":["cs-agents"]}`); err != nil {
			t.Fatal(err)
		}
		if len(c.rows) > 2 {
			t.Fatalf("%d decoded rows kept, bound 2", len(c.rows))
		}
	}
	d, err := c.decode("d", `{"user":{"sub":"d"},"groups":["cs-agents"]}`)
	if err != nil || d.User.Subject != "d" {
		t.Fatalf("decode = %+v, %v", d, err)
	}
	if _, err := c.decode("e", `{"user":`); err == nil {
		t.Fatal("a truncated row decoded")
	}
	if _, ok := c.rows["e"]; ok {
		t.Error("a row that does not decode was kept")
	}
}
