package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"ctpdesk/auth"
	"ctpdesk/static"
	"ctpdesk/store"

	"github.com/labstack/echo/v4"
)

// wantAccess is the expected access of every route ctpdesk registers, written out by hand so a
// change to routes.go's access column, or a new route without an entry here, fails
// TestRouteRoleTable. "public" means anyone; otherwise the roles that get through.
var wantAccess = map[string][]string{
	"GET /":                                  {"public"},
	"GET /healthz":                           {"public"},
	"GET /metrics":                           {"public"},
	"GET /readyz":                            {"public"},
	"GET /static/*":                          {"public"},
	"HEAD /static/*":                         {"public"},
	"GET /login":                             {"public"},
	"GET /auth/start":                        {"public"},
	"GET /auth/callback":                     {"public"},
	"POST /logout":                           {"agent", "fraud", "auditor"},
	"GET /auth/session":                      {"agent", "fraud", "auditor"},
	"GET /customers":                         {"agent", "fraud"},
	"GET /customers/:id":                     {"agent", "fraud"},
	"GET /customers/:id/comparison":          {"agent", "fraud"},
	"POST /customers/:id/comparison/refresh": {"agent", "fraud"},
	"POST /customers/:id/reveal":             {"agent"},
	"GET /audit":                             {"auditor"},
	"GET /audit/export":                      {"auditor"},
	"GET /scans":                             {"fraud"},
	"POST /scans":                            {"fraud"},
	"POST /scans/:id/cancel":                 {"fraud"},
	"POST /scans/:id/resume":                 {"fraud"},
	"GET /worklist":                          {"agent", "fraud"},
	"GET /worklist/export":                   {"agent", "fraud"},
	"POST /worklist/:id/decision":            {"agent", "fraud"},
}

// accessFixture is the real route table behind a real guard over a real session store, with
// one minted session per role.
type accessFixture struct {
	e        *echo.Echo
	sessions *auth.SessionStore
	cookies  map[string]*http.Cookie
	tokens   map[string]string
}

// testRoleMap grants each role through a provider group of the same name, so a test session
// for a role carries that one group.
var testRoleMap = auth.RoleMap{auth.RoleAgent: {"agent"}, auth.RoleFraud: {"fraud"}, auth.RoleAuditor: {"auditor"}}

func newAccessFixture(t *testing.T) *accessFixture {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "ctpdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	f := &accessFixture{
		e: echo.New(), sessions: auth.NewSessionStore(db, auth.SessionConfig{Secure: true, Roles: testRoleMap, DBTimeout: testDBWait}),
		cookies: map[string]*http.Cookie{}, tokens: map[string]string{},
	}
	guard := &auth.Guard{Sessions: f.sessions, LoginPath: "/login"}
	// The monitoring network holds the test's client address, so /metrics is let through as
	// the table says; the handler's own network check is tested in handlers_test.go.
	h := mustNewPermissive(t, Deps{Assets: assets, Version: "test", MetricsNetworks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	h.Register(f.e, guard)
	for _, role := range auth.AllRoles {
		w := httptest.NewRecorder()
		u := auth.User{Issuer: "https://idp.test", Subject: "sub-" + string(role), Name: "Test " + string(role), Roles: []auth.Role{role}}
		sess, err := f.sessions.Start(w, httptest.NewRequest(http.MethodGet, "/auth/callback", nil), auth.Grant{User: u, Groups: []string{string(role)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == f.sessions.CookieName() {
				f.cookies[string(role)] = c
			}
		}
		f.tokens[string(role)] = sess.CSRFToken()
	}
	return f
}

// concretePath fills a route pattern's parameters with plausible values.
func concretePath(p string) string {
	p = strings.ReplaceAll(p, ":id", "C0000001")
	p = strings.ReplaceAll(p, "*", "css/app.css")
	if i := strings.Index(p, ":"); i >= 0 {
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p) - i
		}
		p = p[:i] + "x" + p[i+j:]
	}
	return p
}

// TestRouteRoleTable sends every registered route a request as anonymous and as each role and
// checks who gets through: anonymous is sent to sign in, a role outside the route's list gets
// 403, an allowed role reaches the handler. A registered route with no entry in wantAccess,
// or an entry that disagrees with routes.go, fails the test.
func TestRouteRoleTable(t *testing.T) {
	f := newAccessFixture(t)
	h := mustNew(t, Deps{})
	code := map[string]Route{}
	for _, r := range h.Routes() {
		code[r.Method+" "+r.Path] = r
	}
	registered := map[string]bool{}
	var keys []string
	for _, r := range f.e.Routes() {
		key := r.Method + " " + r.Path
		if registered[key] || strings.HasPrefix(r.Name, "echo_route_any") {
			continue
		}
		registered[key] = true
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for key := range wantAccess {
		if !registered[key] {
			t.Errorf("wantAccess lists %s, which is not registered", key)
		}
	}
	for _, key := range keys {
		want, ok := wantAccess[key]
		if !ok {
			t.Errorf("route %s has no entry in the route x role table (wantAccess)", key)
			continue
		}
		public := slices.Equal(want, []string{"public"})
		if r, inCode := code[key]; inCode {
			if r.Public != public || (!public && !slices.Equal(sortedCopy(roleNames(r.Roles)), sortedCopy(want))) {
				t.Errorf("%s: routes.go says public=%v roles=%v, the table says %v", key, r.Public, r.Roles, want)
			}
		} else if !strings.HasPrefix(key, "GET /static/") && !strings.HasPrefix(key, "HEAD /static/") {
			t.Errorf("%s is registered outside Routes(), so it bypasses the access column", key)
		}
		method, path, _ := strings.Cut(key, " ")
		for _, who := range append([]string{"anonymous"}, RoleAgent, RoleFraud, RoleAuditor) {
			t.Run(key+"/"+who, func(t *testing.T) {
				w := f.do(method, concretePath(path), who)
				allowed := public || slices.Contains(want, who)
				toLogin := strings.HasPrefix(w.Header().Get("Location"), "/login")
				switch {
				case allowed && (w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || toLogin):
					t.Errorf("%s as %s = %d (Location %q), want it let through", key, who, w.Code, w.Header().Get("Location"))
				case !allowed && who == "anonymous" && (w.Code != http.StatusSeeOther || !toLogin):
					t.Errorf("%s as anonymous = %d (Location %q), want 303 to /login", key, w.Code, w.Header().Get("Location"))
				case !allowed && who != "anonymous" && w.Code != http.StatusForbidden:
					t.Errorf("%s as %s = %d, want 403", key, who, w.Code)
				}
			})
		}
	}
}

func (f *accessFixture) do(method, path, who string) *httptest.ResponseRecorder {
	var body *strings.Reader
	form := url.Values{}
	if tok := f.tokens[who]; tok != "" {
		form.Set("_csrf", tok)
	}
	body = strings.NewReader(form.Encode())
	r := httptest.NewRequest(method, path, body)
	if method != http.MethodGet && method != http.MethodHead {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c := f.cookies[who]; c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	return w
}

// Role names as the fixtures key their sessions.
const (
	RoleAgent   = string(auth.RoleAgent)
	RoleFraud   = string(auth.RoleFraud)
	RoleAuditor = string(auth.RoleAuditor)
)

func roleNames(rs []auth.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

// TestCSRFRefusedThroughTheStack: a signed-in agent's POST without the token, even claiming
// Sec-Fetch-Site: same-origin, is refused with the error page before any handler runs.
func TestCSRFRefusedThroughTheStack(t *testing.T) {
	f := newAccessFixture(t)
	r := httptest.NewRequest(http.MethodPost, "/logout", nil)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.AddCookie(f.cookies[RoleAgent])
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Request refused") {
		t.Fatalf("POST /logout without token = %d\n%s", w.Code, w.Body)
	}
	// The session survived: the refused request changed nothing.
	s, err := f.sessions.Load(func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(f.cookies[RoleAgent])
		return r
	}())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.User(); !ok {
		t.Error("a refused logout still ended the session")
	}
}
