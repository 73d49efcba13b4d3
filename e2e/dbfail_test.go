package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctpdesk/auth"
	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
	"ctpdesk/internal/dbfault"
	"ctpdesk/internal/pgtest"
	"ctpdesk/issuerdb"
)

// dbHangGuard only catches a request that waits for the database without bound: the answer
// is meant to come well inside two seconds, and the measured times are logged, not asserted.
const dbHangGuard = 5 * time.Second

// dbFailApp is a dev app in this process with signed-in users whose requests are about to
// meet a failing dashboard database.
type dbFailApp struct {
	app  *app.App
	base string
	cust issuerdb.Customer
	// The sessions of each role: "due" ones have to move their last activity on the next
	// request (a write in the session middleware), "fresh" ones do not, so their requests
	// reach the handler and its audit write.
	sessions map[string]dbFailSession
}

type dbFailSession struct {
	cookie *http.Cookie
	csrf   string
}

// dbRoute is one data route and who asks for it.
type dbRoute struct {
	name, role, method, path string
	form                     url.Values
	hdr                      []string
}

func newDBFailApp(t *testing.T, extra map[string]string) *dbFailApp {
	t.Helper()
	// The production bounds on waiting for the database: what these tests are about.
	vars := map[string]string{"CTPDESK_AUDIT_RECORD_TIMEOUT": "1s", "CTPDESK_SESSION_DB_TIMEOUT": "500ms"}
	for k, v := range extra {
		vars[k] = v
	}
	a, base := startInProcess(t, vars)
	f := &dbFailApp{app: a, base: base, sessions: map[string]dbFailSession{}}
	idb, err := issuerdb.Open(context.Background(), a.Config().IssuerDatabaseURL(), issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer idb.Close()
	if f.cust, err = idb.Get(context.Background(), "CU00000007"); err != nil {
		t.Fatal(err)
	}
	roles := []auth.Role{auth.RoleAgent, auth.RoleAuditor}
	for _, role := range roles {
		c, csrf := startSession(t, a, role)
		f.sessions[string(role)+"/due"] = dbFailSession{cookie: c, csrf: csrf}
	}
	// Move their last activity back past the touch interval (15 s); the fresh sessions
	// started after this are not due.
	if _, err := a.DB().Exec(`UPDATE auth_sessions SET last_seen_at = last_seen_at - 20000`); err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		c, csrf := startSession(t, a, role)
		f.sessions[string(role)+"/fresh"] = dbFailSession{cookie: c, csrf: csrf}
	}
	return f
}

// startSession signs a synthetic user with role in through the app's own session store, as the
// sign-in callback does, and returns the cookie and the session's CSRF token.
func startSession(t *testing.T, a *app.App, role auth.Role) (*http.Cookie, string) {
	t.Helper()
	u := auth.User{Issuer: "https://idp.test", Subject: "dbfail-" + string(role), Name: "Db Fail " + string(role), Roles: []auth.Role{role}}
	w := httptest.NewRecorder()
	sess, err := a.Sessions().Start(w, httptest.NewRequest(http.MethodGet, "/auth/callback", nil), auth.Grant{User: u, Groups: []string{devGroups[role]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == a.Sessions().CookieName() {
			return c, sess.CSRFToken()
		}
	}
	t.Fatal("no session cookie")
	return nil, ""
}

// routes lists every data route of the dashboard with the role that may ask for it.
func (f *dbFailApp) routes() []dbRoute {
	page := "/customers/" + f.cust.ID
	reveal := url.Values{"field": {"phone"}, "source": {"issuer"}, "reason": {"customer_verified"}}
	return []dbRoute{
		{name: "search", role: "agent", method: http.MethodGet, path: "/customers?q=" + url.QueryEscape(f.cust.LastName)},
		{name: "search JSON", role: "agent", method: http.MethodGet, path: "/customers?q=" + url.QueryEscape(f.cust.LastName), hdr: []string{"Accept", "application/json"}},
		{name: "customer page", role: "agent", method: http.MethodGet, path: page},
		{name: "customer JSON", role: "agent", method: http.MethodGet, path: page, hdr: []string{"Accept", "application/json"}},
		{name: "comparison", role: "agent", method: http.MethodGet, path: page + "/comparison", hdr: []string{"HX-Request", "true"}},
		{name: "refresh", role: "agent", method: http.MethodPost, path: page + "/comparison/refresh", form: url.Values{}, hdr: []string{"HX-Request", "true"}},
		{name: "reveal", role: "agent", method: http.MethodPost, path: page + "/reveal", form: reveal, hdr: []string{"HX-Request", "true"}},
		{name: "audit trail", role: "auditor", method: http.MethodGet, path: "/audit"},
		{name: "audit export", role: "auditor", method: http.MethodGet, path: "/audit/export"},
	}
}

// dbAnswer is what one request got.
type dbAnswer struct {
	status    int
	requestID string
	body      string
	took      time.Duration
}

func (f *dbFailApp) do(t *testing.T, r dbRoute, s dbFailSession) dbAnswer {
	t.Helper()
	var body io.Reader
	if r.form != nil {
		form := url.Values{"_csrf": {s.csrf}}
		for k, v := range r.form {
			form[k] = v
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(r.method, f.base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(r.hdr); i += 2 {
		req.Header.Set(r.hdr[i], r.hdr[i+1])
	}
	req.AddCookie(s.cookie)
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return dbAnswer{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id"), body: string(b), took: time.Since(start)}
}

// expect503 checks an answer is the 503 the error table writes: with the request id in the
// body as well as the header, and none of the customer's data.
func (f *dbFailApp) expect503(t *testing.T, what string, a dbAnswer) {
	t.Helper()
	if a.status != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want 503 (body %.300q)", what, a.status, a.body)
		return
	}
	if a.requestID == "" || !strings.Contains(a.body, a.requestID) {
		t.Errorf("%s: the 503 answer does not show its request id %q: %.300q", what, a.requestID, a.body)
	}
	c := f.cust
	for _, secret := range []string{c.Email, c.Phone, c.LastName, c.ConsumerID, c.Address.Line1} {
		if secret != "" && strings.Contains(a.body, secret) {
			t.Errorf("%s: the 503 answer holds customer data %q", what, secret)
		}
	}
	if a.took > dbHangGuard {
		t.Errorf("%s: the 503 came after %s", what, a.took)
	}
}

// expectNotReady checks /readyz says not ready and names the audit trail.
func (f *dbFailApp) expectNotReady(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(f.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	took := time.Since(start)
	var report struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&report); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || report.Checks["audit trail"] != "unavailable" {
		t.Errorf("/readyz while audit commits fail: %d %+v, want 503 with the audit trail unavailable", resp.StatusCode, report)
	}
	return took
}

// latencies collects the time of each 503 for the log.
type latencies map[string][]time.Duration

func (l latencies) String() string {
	var names []string
	for k := range l {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		ds := l[k]
		slowest := time.Duration(0)
		for _, d := range ds {
			slowest = max(slowest, d)
		}
		b.WriteString("\n  " + k + ": slowest " + slowest.Round(time.Millisecond).String())
	}
	return b.String()
}

// run sends every data route once per session kind and checks each answer is a prompt 503.
func (f *dbFailApp) runAll(t *testing.T, fault string, lat latencies) {
	t.Helper()
	// Before the routes fail on it, /readyz finds the fault by its trial append.
	lat["/readyz first"] = append(lat["/readyz first"], f.expectNotReady(t))
	for _, kind := range []string{"due", "fresh"} {
		for _, r := range f.routes() {
			a := f.do(t, r, f.sessions[r.role+"/"+kind])
			f.expect503(t, fault+": "+r.name+" ("+kind+" session)", a)
			lat[kind+" session"] = append(lat[kind+" session"], a.took)
		}
	}
	lat["/readyz after the 503s"] = append(lat["/readyz after the 503s"], f.expectNotReady(t))
}

// TestDataRoutesAnswer503WhenTheDashboardDatabaseFails breaks the running app's SQLite
// database three ways (another writer holds its lock, it turns read-only, it is full) and
// sends every data route, as an agent or auditor whose session is due for its activity write
// and as one whose session is not: each answer is a 503 with the request id and no customer
// data, and /readyz says not ready. After the fault is lifted the data is served again.
func TestDataRoutesAnswer503WhenTheDashboardDatabaseFails(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the dev stack three times")
	}
	faults := []struct {
		name  string
		apply func(t *testing.T, f *dbFailApp) func()
	}{
		{"locked", func(t *testing.T, f *dbFailApp) func() {
			return dbfault.LockSQLite(t, filepath.Join(f.app.Config().DataDir, config.DevDashboardDBFile))
		}},
		{"read-only", func(t *testing.T, f *dbFailApp) func() { return dbfault.ReadOnlySQLite(t, f.app.DB().DB) }},
		{"full", func(t *testing.T, f *dbFailApp) func() {
			restore := dbfault.FullSQLite(t, f.app.DB().DB)
			// Writes that still fit in a page go through, as on a disk that just filled up:
			// keep the traffic going until every route has been refused once.
			refused := map[string]bool{}
			round := 0
			for ; round < 100 && len(refused) < len(f.routes()); round++ {
				for _, r := range f.routes() {
					if f.do(t, r, f.sessions[r.role+"/fresh"]).status == http.StatusServiceUnavailable {
						refused[r.name] = true
					}
				}
			}
			if len(refused) < len(f.routes()) {
				t.Fatalf("after 100 rounds only %d of %d routes are refused on a full database", len(refused), len(f.routes()))
			}
			t.Logf("full: every route refused after %d round(s) of traffic", round)
			return restore
		}},
	}
	for _, fault := range faults {
		t.Run(fault.name, func(t *testing.T) {
			f := newDBFailApp(t, nil)
			comparison := f.routes()[4]
			if a := f.do(t, comparison, f.sessions["agent/fresh"]); a.status != http.StatusOK {
				t.Fatalf("comparison before the fault: %d", a.status)
			}
			lift := fault.apply(t, f)
			lat := latencies{}
			f.runAll(t, fault.name, lat)
			t.Logf("%s: time to 503 (measured, not asserted):%s", fault.name, lat)
			lift()
			// Recovery needs no restart: the data is served again once the database takes
			// writes. The first write after a lock may still be slow on a busy machine, so
			// ask until it answers, within a bound that only guards against a hang.
			status := 0
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if status = f.do(t, comparison, f.sessions["agent/fresh"]).status; status == http.StatusOK {
					break
				}
			}
			if status != http.StatusOK {
				t.Errorf("comparison after the fault was lifted: %d", status)
			}
		})
	}
}

// TestDataRoutesAnswer503WhenPostgresTurnsReadOnly is the same on PostgreSQL: the dashboard
// database is switched to read-only transactions (ALTER DATABASE … SET
// default_transaction_read_only), as after a failover onto a standby.
func TestDataRoutesAnswer503WhenPostgresTurnsReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the dev stack")
	}
	if !pgtest.Configured(t) {
		t.Skip(pgtest.EnvVar + " not set: PostgreSQL not tested")
	}
	f := newDBFailApp(t, map[string]string{"CTPDESK_DATABASE_URL": pgtest.URL(t, "ctpdesk_e2e_readonly")})
	comparison := f.routes()[4]
	if a := f.do(t, comparison, f.sessions["agent/fresh"]); a.status != http.StatusOK {
		t.Fatalf("comparison before the fault: %d", a.status)
	}
	lift := dbfault.ReadOnlyPostgres(t, f.app.DB().DB)
	lat := latencies{}
	f.runAll(t, "postgres read-only", lat)
	t.Logf("postgres read-only: time to 503 (measured, not asserted):%s", lat)
	lift()
	if a := f.do(t, comparison, f.sessions["agent/fresh"]); a.status != http.StatusOK {
		t.Errorf("comparison after the database is writable again: %d", a.status)
	}
}

// metricValue reads one sample of the Prometheus text exposition, -1 when it is absent.
func metricValue(t *testing.T, exposition, sample string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		rest, ok := strings.CutPrefix(line, sample+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return v
	}
	return -1
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %.200q", resp.StatusCode, b)
	}
	return string(b)
}

// TestAuditMetricsThroughTheRunningApp reads /metrics of the app: after audited requests the
// audit batch size and commit duration histograms hold them; after a commit that the database
// refuses, the failures counter has risen. The issuer searches waiting for a turn are there too.
func TestAuditMetricsThroughTheRunningApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the dev stack")
	}
	f := newDBFailApp(t, map[string]string{"CTPDESK_METRICS_NETWORKS": "127.0.0.1/32,::1/128"})
	before := scrape(t, f.base)
	const views = 5
	comparison := f.routes()[4]
	for range views {
		if a := f.do(t, comparison, f.sessions["agent/fresh"]); a.status != http.StatusOK {
			t.Fatalf("comparison: %d", a.status)
		}
	}
	after := scrape(t, f.base)
	// Absent, metricValue says -1; no search waits for a turn in a quiet app.
	if got := metricValue(t, after, "ctpdesk_issuer_searches_waiting"); got != 0 {
		t.Errorf("ctpdesk_issuer_searches_waiting = %v in a quiet app, want 0", got)
	}
	for _, sample := range []string{"ctpdesk_audit_batch_size_count", "ctpdesk_audit_commit_duration_seconds_count"} {
		if got, was := metricValue(t, after, sample), metricValue(t, before, sample); got < was+1 || got < 1 {
			t.Errorf("%s = %v after %d audited views (was %v)", sample, got, views, was)
		}
	}
	if events := metricValue(t, after, "ctpdesk_audit_batch_size_sum") - metricValue(t, before, "ctpdesk_audit_batch_size_sum"); events < views {
		t.Errorf("the observed batches hold %v events, want at least the %d views", events, views)
	}
	if got := metricValue(t, after, "ctpdesk_audit_commit_duration_seconds_sum"); got <= 0 {
		t.Errorf("ctpdesk_audit_commit_duration_seconds_sum = %v, want > 0", got)
	}
	failuresBefore := metricValue(t, after, "ctpdesk_audit_commit_failures_total")
	if failuresBefore != 0 {
		t.Errorf("ctpdesk_audit_commit_failures_total = %v before any failure", failuresBefore)
	}
	// The database refuses every audit insert from here on.
	if _, err := f.app.DB().Exec("CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit store refuses writes'); END"); err != nil {
		t.Fatal(err)
	}
	f.expect503(t, "comparison with the audit store refusing writes", f.do(t, comparison, f.sessions["agent/fresh"]))
	if got := metricValue(t, scrape(t, f.base), "ctpdesk_audit_commit_failures_total"); got < failuresBefore+1 {
		t.Errorf("ctpdesk_audit_commit_failures_total = %v after a refused commit, want > %v", got, failuresBefore)
	}
}
