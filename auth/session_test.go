package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ctpdesk/store"
)

// forEachDialect runs f against SQLite and, when configured, PostgreSQL.
func forEachDialect(t *testing.T, f func(t *testing.T, h *harness)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { f(t, newHarnessOn(t, d)) })
	}
}

// load runs the session store's Load for a request carrying cookie c.
func (h *harness) load(tb testing.TB, c *http.Cookie) (*Session, error) {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/customers", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return h.sessions.Load(r)
}

func (h *harness) mustLogin(tb testing.TB) *http.Cookie {
	tb.Helper()
	w, _, err := h.login(tb)
	if err != nil {
		tb.Fatal(err)
	}
	c := h.sessionCookie(w)
	if c == nil {
		tb.Fatal("sign-in set no session cookie")
	}
	return c
}

func wantAnonymous(tb testing.TB, s *Session) {
	tb.Helper()
	if u, ok := s.User(); ok {
		tb.Fatalf("session is signed in as %+v, want anonymous", u)
	}
	if s.CSRFToken() != "" {
		tb.Fatal("anonymous session has a CSRF token")
	}
}

func TestSessionTamperedCookie(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		good := h.mustLogin(t)
		flipped := []byte(good.Value)
		if flipped[5] == 'A' {
			flipped[5] = 'B'
		} else {
			flipped[5] = 'A'
		}
		for name, v := range map[string]string{
			"one character changed": string(flipped),
			"truncated":             good.Value[:len(good.Value)-1],
			"extended":              good.Value + "A",
			"not base64":            strings.Repeat("*", len(good.Value)),
			"sql":                   "' OR 1=1 --",
			"empty":                 "",
			"huge":                  strings.Repeat("A", 8000),
		} {
			t.Run(name, func(t *testing.T) {
				s, err := h.load(t, &http.Cookie{Name: good.Name, Value: v})
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				wantAnonymous(t, s)
			})
		}
		s, err := h.load(t, good)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.User(); !ok {
			t.Fatal("the untampered cookie no longer works")
		}
	})
}

func TestSessionReplayAfterLogout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.mustLogin(t)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "https://ctpdesk.bank.example/logout", nil)
		r.AddCookie(c)
		endURL, u, ok, err := h.auth.Logout(w, r)
		if err != nil || !ok || u.Subject != "staff-0042" {
			t.Fatalf("Logout = %q, %+v, %v, %v", endURL, u, ok, err)
		}
		if !strings.HasPrefix(endURL, h.op.issuer()+"/logout?") || !strings.Contains(endURL, "id_token_hint=") {
			t.Errorf("end-session URL = %q", endURL)
		}
		cleared := false
		for _, rc := range w.Result().Cookies() {
			if rc.Name == c.Name && rc.MaxAge < 0 {
				cleared = true
			}
		}
		if !cleared {
			t.Error("logout did not clear the session cookie")
		}
		if n := h.rows(t, "auth_sessions"); n != 0 {
			t.Errorf("%d session rows after logout", n)
		}
		s, err := h.load(t, c)
		if err != nil {
			t.Fatal(err)
		}
		wantAnonymous(t, s)
	})
}

func TestSessionIdleTimeout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.mustLogin(t)
		// Activity every 14 minutes keeps the session alive well past 15 minutes in total.
		for range 3 {
			h.clock.Advance(14 * time.Minute)
			s, err := h.load(t, c)
			if err != nil {
				t.Fatalf("active session refused: %v", err)
			}
			if _, ok := s.User(); !ok {
				t.Fatal("active session lost its user")
			}
		}
		h.clock.Advance(DefaultIdleTimeout)
		s, err := h.load(t, c)
		var exp *ExpiredError
		if !errors.As(err, &exp) || exp.Reason != "idle" || exp.User.Subject != "staff-0042" {
			t.Fatalf("after 15 idle minutes: err = %v", err)
		}
		wantAnonymous(t, s)
		if n := h.rows(t, "auth_sessions"); n != 0 {
			t.Errorf("expired session row not deleted (%d rows)", n)
		}
	})
}

func TestSessionAbsoluteTimeout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.mustLogin(t)
		var err error
		elapsed := time.Duration(0)
		for elapsed < DefaultMaxLifetime+time.Hour {
			h.clock.Advance(10 * time.Minute)
			elapsed += 10 * time.Minute
			if _, err = h.load(t, c); err != nil {
				break
			}
		}
		var exp *ExpiredError
		if !errors.As(err, &exp) || exp.Reason != "absolute" {
			t.Fatalf("busy session never hit the absolute limit: err = %v", err)
		}
		if elapsed != DefaultMaxLifetime {
			t.Errorf("session ended after %v of activity, want %v", elapsed, DefaultMaxLifetime)
		}
	})
}

func TestSessionFixation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		// The attacker's own valid session cookie is planted in the victim's browser.
		planted := h.mustLogin(t)
		cookies, authURL := h.begin(t)
		code, q := h.op.authorize(authURL)
		w, _, err := h.callback(t, append(cookies, planted), map[string][]string{"code": {code}, "state": {q.Get("state")}})
		if err != nil {
			t.Fatal(err)
		}
		fresh := h.sessionCookie(w)
		if fresh == nil || fresh.Value == planted.Value {
			t.Fatalf("session id did not change at sign-in: %+v", fresh)
		}
		s, err := h.load(t, planted)
		if err != nil {
			t.Fatal(err)
		}
		wantAnonymous(t, s)
		if n := h.rows(t, "auth_sessions"); n != 1 {
			t.Errorf("%d session rows, want only the new one", n)
		}
	})
}

func TestSessionPurge(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		h.mustLogin(t)
		h.begin(t) // an abandoned sign-in leaves a pre-login record
		n, err := h.sessions.Purge(t.Context())
		if err != nil || n != 0 {
			t.Fatalf("Purge of live rows = %d, %v", n, err)
		}
		h.clock.Advance(DefaultIdleTimeout)
		n, err = h.sessions.Purge(t.Context())
		if err != nil || n != 2 {
			t.Fatalf("Purge = %d, %v; want the session and the pre-login gone", n, err)
		}
		if h.rows(t, "auth_sessions")+h.rows(t, "auth_prelogins") != 0 {
			t.Error("rows left after purge")
		}
	})
}

func TestSessionCookieInsecureDev(t *testing.T) {
	db, _ := testDB(t, store.SQLite)
	s := NewSessionStore(db, SessionConfig{Secure: false})
	if s.CookieName() != "ctpdesk_sid" {
		t.Errorf("dev cookie name = %q", s.CookieName())
	}
	if s.options().Secure || !s.options().HttpOnly || s.options().SameSite != http.SameSiteLaxMode {
		t.Errorf("dev cookie options = %+v", s.options())
	}
}

// TestSessionTouchIsThrottled: requests closer together than touchEvery do not rewrite the
// row, and the session still ends no later than the idle timeout after the last write.
func TestSessionTouchIsThrottled(t *testing.T) {
	h := newHarness(t)
	c := h.mustLogin(t)
	lastSeen := func() int64 {
		var v int64
		if err := h.db.QueryRowContext(t.Context(), "SELECT last_seen_at FROM auth_sessions").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	first := lastSeen()
	h.clock.Advance(touchEvery / 2)
	if _, err := h.load(t, c); err != nil {
		t.Fatal(err)
	}
	if lastSeen() != first {
		t.Error("a request within touchEvery rewrote last_seen_at")
	}
	h.clock.Advance(touchEvery)
	if _, err := h.load(t, c); err != nil {
		t.Fatal(err)
	}
	if lastSeen() == first {
		t.Error("a request after touchEvery did not move last_seen_at")
	}
}
