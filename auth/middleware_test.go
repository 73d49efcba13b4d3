package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// guarded is an echo app behind the Guard with a tiny policy, for middleware tests.
type guarded struct {
	h      *harness
	e      *echo.Echo
	guard  *Guard
	mu     sync.Mutex
	events []EventKind
}

func newGuarded(t *testing.T) *guarded {
	t.Helper()
	g := &guarded{h: newHarness(t), e: echo.New()}
	guard := &Guard{
		Sessions:  g.h.sessions,
		LoginPath: "/login",
		Record: func(_ echo.Context, _ User, kind EventKind, _ map[string]string) {
			g.mu.Lock()
			g.events = append(g.events, kind)
			g.mu.Unlock()
		},
	}
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "reached") }
	for _, r := range []struct {
		method, path string
		access       Access
	}{
		{http.MethodGet, "/login", Access{Public: true}},
		{http.MethodPost, "/public-form", Access{Public: true}},
		{http.MethodGet, "/customers", Access{Roles: []Role{RoleAgent, RoleFraud}}},
		{http.MethodPost, "/customers/:id/x", Access{Roles: []Role{RoleAgent}}},
		{http.MethodGet, "/audit", Access{Roles: []Role{RoleAuditor}}},
		{http.MethodGet, "/nobody", Access{}},
	} {
		g.e.Add(r.method, r.path, ok, guard.For(r.method, r.path, r.access)...)
	}
	g.guard = guard
	return g
}

func (g *guarded) do(r *http.Request, c *http.Cookie) *httptest.ResponseRecorder {
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	g.e.ServeHTTP(w, r)
	return w
}

func (g *guarded) csrfToken(t *testing.T, c *http.Cookie) string {
	t.Helper()
	s, err := g.h.load(t, c)
	if err != nil {
		t.Fatal(err)
	}
	return s.CSRFToken()
}

func TestAuthorizeAnonymous(t *testing.T) {
	g := newGuarded(t)
	w := g.do(httptest.NewRequest(http.MethodGet, "/customers?q=x", nil), nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Fcustomers%3Fq%3Dx" {
		t.Errorf("anonymous GET = %d %q", w.Code, w.Header().Get("Location"))
	}
	r := httptest.NewRequest(http.MethodGet, "/customers", nil)
	r.Header.Set("Accept", "application/json")
	if w := g.do(r, nil); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "unauthenticated") {
		t.Errorf("anonymous JSON GET = %d %s", w.Code, w.Body)
	}
	if w := g.do(httptest.NewRequest(http.MethodGet, "/login", nil), nil); w.Code != http.StatusOK {
		t.Errorf("public route = %d", w.Code)
	}
}

func TestHTMXExpiredSessionGetsHXRedirect(t *testing.T) {
	g := newGuarded(t)
	c := g.h.mustLogin(t)
	g.h.clock.Advance(DefaultIdleTimeout + time.Second)
	r := httptest.NewRequest(http.MethodGet, "/customers?q=ada", nil)
	r.Header.Set("HX-Request", "true")
	w := g.do(r, c)
	if w.Code != http.StatusUnauthorized || w.Header().Get("HX-Redirect") != "/login?expired=1" || w.Header().Get("Location") != "" {
		t.Errorf("htmx request on expired session = %d HX-Redirect=%q Location=%q",
			w.Code, w.Header().Get("HX-Redirect"), w.Header().Get("Location"))
	}
	if len(g.events) != 1 || g.events[0] != EventSessionExpired {
		t.Errorf("events = %v, want one session.expired", g.events)
	}
}

func TestAuthorizeRoles(t *testing.T) {
	g := newGuarded(t)
	c := g.h.mustLogin(t) // the fake provider's user is an agent
	if w := g.do(httptest.NewRequest(http.MethodGet, "/customers", nil), c); w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("agent GET /customers = %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
	if w := g.do(httptest.NewRequest(http.MethodGet, "/audit", nil), c); w.Code != http.StatusForbidden || w.Body.String() == "reached" {
		t.Errorf("agent GET /audit = %d", w.Code)
	}
	if len(g.events) != 1 || g.events[0] != EventAccessDenied {
		t.Errorf("events = %v, want one access.denied", g.events)
	}
	if w := g.do(httptest.NewRequest(http.MethodGet, "/nobody", nil), c); w.Code != http.StatusForbidden {
		t.Errorf("route with no roles = %d, want 403 (deny by default)", w.Code)
	}
}

func TestCSRF(t *testing.T) {
	g := newGuarded(t)
	c := g.h.mustLogin(t)
	token := g.csrfToken(t, c)
	post := func(form url.Values, hdr map[string]string) int {
		r := httptest.NewRequest(http.MethodPost, "/customers/42/x", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return g.do(r, c).Code
	}
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
		want int
	}{
		{"no token", nil, nil, http.StatusForbidden},
		{"no token, forged Sec-Fetch-Site same-origin", nil, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusForbidden},
		{"wrong token", url.Values{"_csrf": {newToken()}}, nil, http.StatusForbidden},
		{"empty token", url.Values{"_csrf": {""}}, nil, http.StatusForbidden},
		{"another session's token", url.Values{"_csrf": {g.csrfToken(t, g.h.mustLogin(t))}}, nil, http.StatusForbidden},
		{"form token", url.Values{"_csrf": {token}}, nil, http.StatusOK},
		{"header token", nil, map[string]string{"X-CSRF-Token": token}, http.StatusOK},
		{"valid token but cross-site", url.Values{"_csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.form, tc.hdr); got != tc.want {
				t.Errorf("status = %d, want %d", got, tc.want)
			}
		})
	}
	// A public route still needs a token for a state-changing request.
	if w := g.do(httptest.NewRequest(http.MethodPost, "/public-form", nil), nil); w.Code != http.StatusForbidden {
		t.Errorf("anonymous POST to a public route without token = %d, want 403", w.Code)
	}
}

func TestSafeReturnPath(t *testing.T) {
	for in, want := range map[string]string{
		"/customers?q=1":                "/customers?q=1",
		"":                              "/",
		"//evil.example/x":              "/",
		"https://evil.example":          "/",
		"/\\evil.example":               "/",
		"/ok\r\nSet-Cookie: x=1":        "/",
		"javascript:alert(1)":           "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := SafeReturnPath(in); got != want {
			t.Errorf("SafeReturnPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoleMap(t *testing.T) {
	m := RoleMap{RoleAgent: {"cs-agents", "cs-leads"}, RoleFraud: {"fraud-analysts"}, RoleAuditor: {"it-audit"}}
	got := m.Roles([]string{"it-audit", "cs-leads", "CS-AGENTS", "nobody"})
	if len(got) != 2 || got[0] != RoleAgent || got[1] != RoleAuditor {
		t.Errorf("Roles = %v", got)
	}
	if r := m.Roles(nil); len(r) != 0 {
		t.Errorf("no groups gave roles %v", r)
	}
	for _, bad := range []string{"a,,b", " , ", "a,b\x00"} {
		if _, err := ParseGroupList(bad); err == nil {
			t.Errorf("ParseGroupList(%q) accepted", bad)
		}
	}
	if g, err := ParseGroupList(" cs-agents , cs-leads "); err != nil || len(g) != 2 || g[1] != "cs-leads" {
		t.Errorf("ParseGroupList = %v, %v", g, err)
	}
}

// TestExpiredSessionGoesStraightBackToSignIn: with a start path, an expired session is sent to
// the provider at once with the page to return to, for a page load and for an htmx fragment
// alike; an anonymous visitor still gets the sign-in page.
func TestExpiredSessionGoesStraightBackToSignIn(t *testing.T) {
	g := newGuarded(t)
	g.guard.StartPath = "/auth/start"
	c := g.h.mustLogin(t)
	g.h.clock.Advance(DefaultIdleTimeout + time.Second)
	w := g.do(httptest.NewRequest(http.MethodGet, "/customers?q=ada", nil), c)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/start?next=%2Fcustomers%3Fq%3Dada" {
		t.Errorf("expired page load = %d %q", w.Code, w.Header().Get("Location"))
	}
	c = g.h.mustLogin(t)
	g.h.clock.Advance(DefaultIdleTimeout + time.Second)
	r := httptest.NewRequest(http.MethodGet, "/customers?q=ad", nil)
	r.Header.Set("HX-Request", "true")
	r.Header.Set("HX-Current-URL", "http://localhost:8080/customers/CU00000007?show=diff")
	w = g.do(r, c)
	if w.Code != http.StatusUnauthorized || w.Header().Get("HX-Redirect") != "/auth/start?next=%2Fcustomers%2FCU00000007%3Fshow%3Ddiff" {
		t.Errorf("expired htmx request = %d HX-Redirect=%q", w.Code, w.Header().Get("HX-Redirect"))
	}
	// A hostile HX-Current-URL cannot send the user elsewhere after sign-in.
	c = g.h.mustLogin(t)
	g.h.clock.Advance(DefaultIdleTimeout + time.Second)
	r = httptest.NewRequest(http.MethodGet, "/customers?q=ad", nil)
	r.Header.Set("HX-Request", "true")
	r.Header.Set("HX-Current-URL", "http://evil.example//evil.example/x")
	w = g.do(r, c)
	if got := w.Header().Get("HX-Redirect"); got != "/auth/start" {
		t.Errorf("hostile HX-Current-URL: HX-Redirect=%q, want /auth/start", got)
	}
	if w := g.do(httptest.NewRequest(http.MethodGet, "/customers", nil), nil); w.Header().Get("Location") != "/login?next=%2Fcustomers" {
		t.Errorf("anonymous = %q, want the sign-in page", w.Header().Get("Location"))
	}
}
