package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/pgtest"
	"ctpdesk/store"
)

// testDB opens a fresh dashboard database: a SQLite file always, or a throwaway PostgreSQL
// database when CTPDESK_TEST_POSTGRES_URL is set and postgres is asked for. It also returns
// the database's URL, for a second instance on the same database.
func testDB(tb testing.TB, dialect store.Dialect) (*store.DB, string) {
	tb.Helper()
	url := "sqlite:" + filepath.Join(tb.TempDir(), "ctpdesk.db")
	if dialect != store.SQLite {
		url = pgtest.URL(tb, "ctpdesk_auth_test")
	}
	return openTestDB(tb, url), url
}

// openTestDB opens the dashboard database at url for the length of the test.
func openTestDB(tb testing.TB, url string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// harness is a relying party wired to a fake provider and a real database.
type harness struct {
	clock    *testClock
	op       *fakeOP
	db       *store.DB
	dbURL    string
	sessions *SessionStore
	auth     *Authenticator
}

func newHarness(tb testing.TB) *harness { return newHarnessOn(tb, store.SQLite) }

func newHarnessOn(tb testing.TB, dialect store.Dialect) *harness {
	tb.Helper()
	clock := newTestClock()
	op := newFakeOP(tb, clock)
	db, dbURL := testDB(tb, dialect)
	// The harness checks what the flows do, not how fast a busy machine answers: a request may
	// wait longer for the store than production's 500 ms. unavailable_test.go sets the bound.
	sessions := NewSessionStore(db, SessionConfig{Secure: true, Now: clock.Now, Roles: testRoles, DBTimeout: 30 * time.Second})
	rp, err := NewRelyingParty(context.Background(), testRPConfig(op, clock))
	if err != nil {
		tb.Fatal(err)
	}
	return &harness{clock: clock, op: op, db: db, dbURL: dbURL, sessions: sessions, auth: &Authenticator{RP: rp, Sessions: sessions}}
}

// testRoles is the role map of the tests: one group per role.
var testRoles = RoleMap{RoleAgent: {"cs-agents"}, RoleFraud: {"fraud-analysts"}, RoleAuditor: {"it-audit"}}

func testRPConfig(op *fakeOP, clock *testClock) RPConfig {
	return RPConfig{
		Issuer: op.issuer(), ClientID: op.clientID, ClientSecret: op.clientSecret,
		RedirectURL:           "https://ctpdesk.bank.example/auth/callback",
		PostLogoutRedirectURL: "https://ctpdesk.bank.example/login",
		HTTPClient:            &http.Client{Timeout: 5 * time.Second},
		Now:                   clock.Now,
	}
}

// reconfigure rebuilds the harness's relying party with the test configuration changed by f.
func (h *harness) reconfigure(tb testing.TB, f func(cfg *RPConfig)) {
	tb.Helper()
	cfg := testRPConfig(h.op, h.clock)
	f(&cfg)
	rp, err := NewRelyingParty(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	h.auth = &Authenticator{RP: rp, Sessions: h.sessions}
}

// begin starts a sign-in and returns the browser's cookies and the authorization URL.
func (h *harness) begin(tb testing.TB) ([]*http.Cookie, string) {
	tb.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "https://ctpdesk.bank.example/login", nil)
	authURL, err := h.auth.BeginLogin(w, r, "/customers")
	if err != nil {
		tb.Fatal(err)
	}
	return w.Result().Cookies(), authURL
}

// callback delivers the provider's redirect back to the RP with the given cookies.
func (h *harness) callback(tb testing.TB, cookies []*http.Cookie, params url.Values) (*httptest.ResponseRecorder, User, error) {
	tb.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/auth/callback?"+params.Encode(), nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	u, _, err := h.auth.FinishLogin(w, r, nil)
	return w, u, err
}

// login runs a whole sign-in against the fake provider.
func (h *harness) login(tb testing.TB) (*httptest.ResponseRecorder, User, error) {
	tb.Helper()
	cookies, authURL := h.begin(tb)
	code, q := h.op.authorize(authURL)
	return h.callback(tb, cookies, url.Values{"code": {code}, "state": {q.Get("state")}})
}

// sessionCookie returns the session cookie a response set, or nil.
func (h *harness) sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == h.sessions.CookieName() && c.Value != "" {
			return c
		}
	}
	return nil
}

func (h *harness) rows(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	q := "SELECT COUNT(*) FROM auth_sessions"
	if table == "auth_prelogins" {
		q = "SELECT COUNT(*) FROM auth_prelogins"
	}
	if err := h.db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// wantRefused checks that a sign-in was refused for reason and left no session anywhere.
func (h *harness) wantRefused(tb testing.TB, w *httptest.ResponseRecorder, err error, reason string, detail string) {
	tb.Helper()
	var le *LoginError
	if !errors.As(err, &le) || !errors.Is(err, ErrLoginRefused) {
		tb.Fatalf("sign-in was not refused: err = %v", err)
	}
	if le.Reason != reason {
		tb.Errorf("reason = %q, want %q (err %v)", le.Reason, reason, err)
	}
	if detail != "" && !strings.Contains(err.Error(), detail) {
		tb.Errorf("error %q does not mention %q", err, detail)
	}
	if c := h.sessionCookie(w); c != nil {
		tb.Errorf("refused sign-in set a session cookie %q", c.Name)
	}
	if n := h.rows(tb, "auth_sessions"); n != 0 {
		tb.Errorf("refused sign-in left %d session rows", n)
	}
}
