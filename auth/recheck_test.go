package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/store"

	"github.com/labstack/echo/v4"
)

// rechecked is an echo app behind a Guard that re-checks sessions at the fake provider. Its
// one route answers with the roles of the request's user.
type rechecked struct {
	h      *harness
	e      *echo.Echo
	mu     sync.Mutex
	events []string // kind:reason
}

func newRechecked(t *testing.T) *rechecked { return newRecheckedOn(t, store.SQLite) }

func newRecheckedOn(t *testing.T, dialect store.Dialect) *rechecked {
	t.Helper()
	rc := &rechecked{h: newHarnessOn(t, dialect), e: echo.New()}
	guard := &Guard{
		Sessions: rc.h.sessions, LoginPath: "/login", Recheck: rc.h.auth,
		Record: func(_ echo.Context, _ User, kind EventKind, details map[string]string) {
			rc.mu.Lock()
			rc.events = append(rc.events, string(kind)+":"+details["reason"])
			rc.mu.Unlock()
		},
	}
	roles := func(c echo.Context) error {
		u, _ := UserFrom(c.Request().Context())
		return c.String(http.StatusOK, strings.Join(u.RoleNames(), ","))
	}
	path := "/whoami"
	rc.e.GET(path, roles, guard.For(http.MethodGet, path, Access{Roles: AllRoles})...)
	return rc
}

// get requests /whoami with the session cookie and returns the status and body.
func (rc *rechecked) get(t *testing.T, c *http.Cookie) (int, string, *httptest.ResponseRecorder) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/whoami", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	rc.e.ServeHTTP(w, r)
	return w.Code, w.Body.String(), w
}

// calls is how many refreshes the provider has seen.
func (rc *rechecked) calls() int {
	rc.h.op.mu.Lock()
	defer rc.h.op.mu.Unlock()
	return rc.h.op.refreshCalls
}

// wantEnded checks that the request was sent to sign in again, told why, and audited with
// reason; and that the session row is gone.
func (rc *rechecked) wantEnded(t *testing.T, code int, w *httptest.ResponseRecorder, reason string) {
	t.Helper()
	if code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "ended=1") {
		t.Fatalf("ended session: %d Location %q, want 303 to the sign-in page with ended=1", code, w.Header().Get("Location"))
	}
	rc.mu.Lock()
	events := strings.Join(rc.events, " ")
	rc.mu.Unlock()
	if want := string(EventSessionRevoked) + ":" + reason; !strings.Contains(events, want) {
		t.Errorf("events %q lack %q", events, want)
	}
	if n := rc.h.rows(t, "auth_sessions"); n != 0 {
		t.Errorf("%d session rows left after the re-check ended the session", n)
	}
	cleared := false
	for _, c := range w.Result().Cookies() {
		cleared = cleared || (c.Name == rc.h.sessions.CookieName() && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("the session cookie was not cleared")
	}
}

// advanceActive moves the clock by d in steps shorter than the idle timeout, with a request at
// each step, so only the re-check (never idleness) can end the session.
func (rc *rechecked) advanceActive(t *testing.T, c *http.Cookie, d time.Duration) {
	t.Helper()
	for step := 5 * time.Minute; d > 0; d -= step {
		rc.h.clock.Advance(min(step, d))
		if d > step {
			if code, _, _ := rc.get(t, c); code != http.StatusOK {
				t.Fatalf("request while advancing the clock: %d", code)
			}
		}
	}
}

// TestRecheckAppliesChangedGroups: a group removed at the provider (agent becomes fraud
// analyst) takes effect at the first request after the re-check interval, not before, and the
// provider is asked once.
func TestRecheckAppliesChangedGroups(t *testing.T) {
	rc := newRechecked(t)
	c := rc.h.mustLogin(t)
	if _, body, _ := rc.get(t, c); body != "agent" {
		t.Fatalf("after sign-in roles = %q", body)
	}
	rc.h.op.set(func(op *fakeOP) { op.groups = []string{"fraud-analysts"} })
	rc.advanceActive(t, c, DefaultRecheckEvery-time.Second)
	if _, body, _ := rc.get(t, c); body != "agent" || rc.calls() != 0 {
		t.Fatalf("before the interval: roles %q after %d refreshes, want agent and none", body, rc.calls())
	}
	rc.h.clock.Advance(time.Second)
	if code, body, _ := rc.get(t, c); code != http.StatusOK || body != "fraud" {
		t.Fatalf("after the interval: %d roles %q, want fraud", code, body)
	}
	if rc.calls() != 1 {
		t.Errorf("%d refreshes, want 1", rc.calls())
	}
	// The new word holds for another interval; the rotated refresh token serves the next one.
	rc.h.op.set(func(op *fakeOP) { op.groups = []string{"it-audit"} })
	rc.advanceActive(t, c, DefaultRecheckEvery)
	if _, body, _ := rc.get(t, c); body != "auditor" || rc.calls() != 2 {
		t.Errorf("second re-check: roles %q after %d refreshes, want auditor after 2", body, rc.calls())
	}
}

// TestRecheckEndsSessionWhenProviderRefuses: the provider refuses the refresh token (the user
// was removed, disabled or signed out there): the session ends at once.
func TestRecheckEndsSessionWhenProviderRefuses(t *testing.T) {
	rc := newRechecked(t)
	c := rc.h.mustLogin(t)
	rc.h.op.set(func(op *fakeOP) { op.refuseRefresh = true })
	rc.advanceActive(t, c, DefaultRecheckEvery)
	code, _, w := rc.get(t, c)
	rc.wantEnded(t, code, w, RevokedRefused)
	if code, _, _ := rc.get(t, c); code != http.StatusSeeOther {
		t.Errorf("the ended session's cookie still works: %d", code)
	}
}

// TestRecheckEndsSessionWithoutRole: the person's groups no longer map to any role.
func TestRecheckEndsSessionWithoutRole(t *testing.T) {
	rc := newRechecked(t)
	c := rc.h.mustLogin(t)
	rc.h.op.set(func(op *fakeOP) { op.groups = []string{"unrelated"} })
	rc.advanceActive(t, c, DefaultRecheckEvery)
	code, _, w := rc.get(t, c)
	rc.wantEnded(t, code, w, RevokedNoRole)
}

// TestRecheckEndsSessionWithoutRefreshToken: a provider that issued no refresh token cannot
// be asked again, so the session ends at the interval and the person signs in again.
func TestRecheckEndsSessionWithoutRefreshToken(t *testing.T) {
	rc := newRechecked(t)
	rc.h.op.set(func(op *fakeOP) { op.noRefresh = true })
	c := rc.h.mustLogin(t)
	rc.advanceActive(t, c, DefaultRecheckEvery)
	code, _, w := rc.get(t, c)
	rc.wantEnded(t, code, w, RevokedNoRefresh)
}

// TestRecheckRefusesAnotherPerson: a refreshed ID token for another subject ends the session.
func TestRecheckRefusesAnotherPerson(t *testing.T) {
	rc := newRechecked(t)
	c := rc.h.mustLogin(t)
	rc.h.op.set(func(op *fakeOP) { op.mutateRefresh = func(cl map[string]any) { cl["sub"] = "staff-0666" } })
	rc.advanceActive(t, c, DefaultRecheckEvery)
	code, _, w := rc.get(t, c)
	rc.wantEnded(t, code, w, RevokedIDToken)
}

// TestRecheckOutageKeepsSessionWithinGrace: while the provider answers 503 the session keeps
// its groups, retries are spaced a minute apart rather than one per request, and once the
// provider has been silent for the grace period the session ends.
func TestRecheckOutageKeepsSessionWithinGrace(t *testing.T) {
	rc := newRechecked(t)
	c := rc.h.mustLogin(t)
	rc.h.op.set(func(op *fakeOP) { op.refreshOutage = true })
	rc.advanceActive(t, c, DefaultRecheckEvery)
	for range 3 {
		if code, body, _ := rc.get(t, c); code != http.StatusOK || body != "agent" {
			t.Fatalf("during the outage: %d roles %q, want the session kept as agent", code, body)
		}
	}
	if rc.calls() != 1 {
		t.Errorf("three requests within a minute made %d refresh calls, want 1", rc.calls())
	}
	rc.h.clock.Advance(recheckRetry)
	rc.get(t, c)
	if rc.calls() != 2 {
		t.Errorf("after the retry spacing: %d refresh calls, want 2", rc.calls())
	}
	rc.advanceActive(t, c, recheckGrace-DefaultRecheckEvery-recheckRetry)
	code, _, w := rc.get(t, c)
	rc.wantEnded(t, code, w, RevokedSilent)
}

// TestRecheckOutageThenRecovery: the provider answers again within the grace period; the
// session is confirmed and its new groups applied.
func TestRecheckOutageThenRecovery(t *testing.T) {
	rc := newRechecked(t)
	c := rc.h.mustLogin(t)
	rc.h.op.set(func(op *fakeOP) { op.refreshOutage = true; op.groups = []string{"fraud-analysts"} })
	rc.advanceActive(t, c, DefaultRecheckEvery)
	if _, body, _ := rc.get(t, c); body != "agent" {
		t.Fatalf("during the outage roles %q", body)
	}
	rc.h.op.set(func(op *fakeOP) { op.refreshOutage = false })
	rc.h.clock.Advance(recheckRetry)
	if _, body, _ := rc.get(t, c); body != "fraud" {
		t.Errorf("after the provider came back roles %q, want fraud", body)
	}
}

// TestRecheckOnceForConcurrentRequests: a page's parallel requests that all find the re-check
// due make one refresh call between them (a second call with the rotated-away token would be
// refused and end the session).
func TestRecheckOnceForConcurrentRequests(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { recheckOnceForConcurrentRequests(t, newRecheckedOn(t, d)) })
	}
}

func recheckOnceForConcurrentRequests(t *testing.T, rc *rechecked) {
	c := rc.h.mustLogin(t)
	rc.advanceActive(t, c, DefaultRecheckEvery)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() { codes[i], _, _ = rc.get(t, c) })
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("request %d: %d", i, code)
		}
	}
	if rc.calls() != 1 {
		t.Errorf("%d concurrent requests made %d refresh calls, want 1", len(codes), rc.calls())
	}
}

// TestRoleMapAppliesAtNextRequest: sessions hold the provider's groups, not roles, so a changed
// CTPDESK_ROLE_* mapping (a store built with another role map, as after a restart) applies to
// a session that is already signed in, at its next request.
func TestRoleMapAppliesAtNextRequest(t *testing.T) {
	h := newHarness(t)
	c := h.mustLogin(t)
	if s, _ := h.load(t, c); !hasRoles(s, RoleAgent) {
		t.Fatalf("before: %+v", must(s.User()))
	}
	remapped := NewSessionStore(h.db, SessionConfig{Secure: true, Now: h.clock.Now,
		Roles: RoleMap{RoleFraud: {"cs-agents"}}})
	r := httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/", nil)
	r.AddCookie(c)
	s, err := remapped.Load(r)
	if err != nil {
		t.Fatal(err)
	}
	if !hasRoles(s, RoleFraud) {
		t.Errorf("after the mapping changed: %+v, want fraud only", must(s.User()))
	}
	none := NewSessionStore(h.db, SessionConfig{Secure: true, Now: h.clock.Now, Roles: RoleMap{}})
	r = httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/", nil)
	r.AddCookie(c)
	if s, _ := none.Load(r); !hasRoles(s) {
		t.Errorf("with the group unmapped: %+v, want no role", must(s.User()))
	}
}

func hasRoles(s *Session, want ...Role) bool {
	u, ok := s.User()
	if !ok || len(u.Roles) != len(want) {
		return false
	}
	for i := range want {
		if u.Roles[i] != want[i] {
			return false
		}
	}
	return true
}

func must(u User, _ bool) User { return u }

// TestRefreshTokenIsSealedInTheDatabase: the sessions table never holds the refresh token in
// clear, and a sealed token copied into another session's row does not open there.
func TestRefreshTokenIsSealedInTheDatabase(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		c := h.mustLogin(t)
		h.op.mu.Lock()
		var issued string
		for rt := range h.op.refreshTokens {
			issued = rt
		}
		h.op.mu.Unlock()
		var data string
		if err := h.db.QueryRowContext(t.Context(), "SELECT data FROM auth_sessions").Scan(&data); err != nil {
			t.Fatal(err)
		}
		if issued == "" || strings.Contains(data, issued) || strings.Contains(data, strings.TrimPrefix(issued, "rt-")) {
			t.Fatalf("refresh token %q stored in clear (or none issued): %s", issued, data)
		}
		s, err := h.load(t, c)
		if err != nil || s.data().refreshToken() != issued {
			t.Fatalf("the session does not open its own refresh token: %v", err)
		}
		var row sessionData
		if err := json.Unmarshal([]byte(data), &row); err != nil || row.SealedRefresh == "" {
			t.Fatalf("no sealed refresh token in the row: %v", err)
		}
		sealed := row.SealedRefresh
		if _, err := openRefresh(newToken(), hashToken(c.Value), sealed); err == nil {
			t.Error("the sealed refresh token opens with another session's id")
		}
		if _, err := openRefresh(c.Value, hashToken(newToken()), sealed); err == nil {
			t.Error("the sealed refresh token opens in another row")
		}
	})
}
