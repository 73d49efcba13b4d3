package handlers

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/static"
	"ctpdesk/store"

	"github.com/labstack/echo/v4"
)

// trailFixture is the real route table behind the real guard, with a real audit trail on a
// real SQLite dashboard database, a seeded issuer database, and one signed-in session per role.
type trailFixture struct {
	e        *echo.Echo
	db       *store.DB
	trail    *audit.Trail
	cookies  map[string]*http.Cookie
	tokens   map[string]string
	customer string
	issuer   *issuerdb.DB
}

func newTrailFixture(t testing.TB, extra func(*Deps)) *trailFixture {
	t.Helper()
	return newReplicaFixture(t, replicaSetup{}, extra)
}

// replicaSetup places a trail fixture: on the dashboard database at DBPath (a fresh one when
// empty), so two fixtures on one path are two replicas, with the trail's HMAC key (a fresh one
// when nil), clock (time.Now when nil) and bound on a commit's wait (testDBWait when zero).
type replicaSetup struct {
	DBPath        string
	Key           []byte
	Now           func() time.Time
	RecordTimeout time.Duration
}

func newReplicaFixture(t testing.TB, setup replicaSetup, extra func(*Deps)) *trailFixture {
	t.Helper()
	if setup.DBPath == "" {
		setup.DBPath = filepath.Join(t.TempDir(), "ctpdesk.db")
	}
	db, err := store.Open(context.Background(), "sqlite:"+setup.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key := setup.Key
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			t.Fatal(err)
		}
	}
	if setup.RecordTimeout == 0 {
		setup.RecordTimeout = testDBWait
	}
	tr, err := audit.New(db, audit.Options{Key: key, CheckpointEvery: 10, RecordTimeout: setup.RecordTimeout, Now: setup.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	issuer := mustIssuerDB(t, 20)
	f := &trailFixture{
		e: echo.New(), db: db, trail: tr, cookies: map[string]*http.Cookie{}, tokens: map[string]string{},
		customer: "CU00000003", issuer: issuer,
	}
	sessions := auth.NewSessionStore(db, auth.SessionConfig{Secure: true, Roles: testRoleMap, DBTimeout: testDBWait})
	guard := &auth.Guard{Sessions: sessions, LoginPath: "/login"}
	deps := Deps{
		Logger: slog.New(slog.DiscardHandler), Assets: assets, Version: "test",
		Customers: issuer, Auditor: tr, AuditTrail: tr, RecentViews: tr, Profiles: noProfiles{},
	}
	if extra != nil {
		extra(&deps)
	}
	mustNew(t, deps).Register(f.e, guard)
	f.e.IPExtractor = ClientIPExtractor(nil)
	for _, role := range auth.AllRoles {
		w := httptest.NewRecorder()
		u := auth.User{Issuer: "https://idp.test", Subject: "sub-" + string(role), Name: "Test " + string(role), Roles: []auth.Role{role}}
		sess, err := sessions.Start(w, httptest.NewRequest(http.MethodGet, "/auth/callback", nil), auth.Grant{User: u, Groups: []string{string(role)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == sessions.CookieName() {
				f.cookies[string(role)] = c
			}
		}
		f.tokens[string(role)] = sess.CSRFToken()
	}
	return f
}

// get sends a GET as who; header pairs are name, value, name, value…
func (f *trailFixture) get(who, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	return f.serve(r, who, header...)
}

// post sends a form as who, with who's CSRF token unless the form already has a _csrf value.
func (f *trailFixture) post(who, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	if _, set := form["_csrf"]; !set {
		form.Set("_csrf", f.tokens[who])
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.serve(r, who, header...)
}

func (f *trailFixture) serve(r *http.Request, who string, header ...string) *httptest.ResponseRecorder {
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	if c := f.cookies[who]; c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	return w
}

// events returns every stored event matching filter, newest first.
func (f *trailFixture) events(t *testing.T, filter audit.Filter) []audit.Event {
	t.Helper()
	filter.Limit = audit.MaxPageSize
	page, err := f.trail.Query(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// seed appends n customer views spread over customers CU00000001..CU00000005.
func (f *trailFixture) seed(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		e := audit.Event{
			Actor:      audit.Actor{Issuer: "https://idp.test", Subject: "agent-" + string(rune('a'+i%3)), Name: "Agent", Roles: []string{"agent"}},
			Action:     audit.ActionCustomerView,
			Outcome:    audit.Success,
			CustomerID: "CU0000000" + string(rune('1'+i%5)),
			ClientIP:   "192.0.2.7",
			RequestID:  "seed",
		}
		if i%4 == 0 {
			e.Outcome = audit.Failure
		}
		if err := f.trail.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// noProfiles is a D1 that knows the consumer and holds no Click to Pay profile for it.
type noProfiles struct{}

func (noProfiles) GetProfiles(context.Context, string, d1.FetchOptions) (d1.Result, error) {
	return d1.Result{}, nil
}
