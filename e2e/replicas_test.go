package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/devidp"
	"ctpdesk/internal/loadtest"
	"ctpdesk/internal/loadtest/drive"
	"ctpdesk/internal/pgtest"
	"ctpdesk/issuerdb"
	"ctpdesk/store"
)

// TestReplicas runs three `ctpdesk serve` processes sharing one PostgreSQL behind a
// round-robin proxy, with the D1 sandbox and the development IdP in this process, all over
// TLS on loopback. It proves that a session started on one replica and finished on another
// works on all three; that SIGKILLing a replica mid-load loses no audit event the client was
// answered for while the other two carry on once the proxy skips the dead one; and that the
// shared chain verifies afterwards.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("replicas: skipped with -short")
	}
	pg := pgtest.URL(t, "ctpdesk_replicas")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	timings := &stopwatch{last: time.Now()}

	bin := filepath.Join(dir, "ctpdesk")
	// The go command on PATH picks the toolchain go.mod names, the one this test was built with.
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "ctpdesk").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	timings.lap("build the binary")

	// The issuer's records: one SQLite file every replica reads, and the sandbox serves.
	const portfolioSeed = 1
	issuerURL := "sqlite:" + filepath.Join(dir, "issuer.db")
	if err := issuerdb.Seed(ctx, issuerURL, 500, portfolioSeed); err != nil {
		t.Fatal(err)
	}
	portfolio, err := issuerdb.Open(ctx, issuerURL, issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer portfolio.Close()
	proxy := &roundRobin{}
	proxySrv := httptest.NewUnstartedServer(proxy)
	publicURL := "https://" + proxySrv.Listener.Addr().String()
	deps := startServeDeps(t, dir, publicURL, "ctpdesk-replicas", portfolio, portfolioSeed)
	auditKey := randomHex(t, 32)
	witness := filepath.Join(dir, "audit-witness.jsonl")
	timings.lap("seed 500 customers, start sandbox and IdP")

	env := append(deps.Env(),
		"CTPDESK_ADDR=127.0.0.1:0",
		"CTPDESK_PUBLIC_URL="+publicURL,
		"CTPDESK_DATABASE_URL="+pg,
		"CTPDESK_ISSUER_DATABASE_URL="+issuerURL,
		"CTPDESK_AUDIT_HMAC_KEY="+auditKey,
		// One witness file shared by every replica, as on a shared volume; a checkpoint every
		// 25 events, so the burst seals many and the kill can land between a commit and its
		// witness write.
		"CTPDESK_AUDIT_WITNESS="+witness,
		"CTPDESK_AUDIT_CHECKPOINT_EVERY=25",
		"CTPDESK_AUDIT_RECORD_TIMEOUT="+underLoad["CTPDESK_AUDIT_RECORD_TIMEOUT"],
		"CTPDESK_SESSION_DB_TIMEOUT="+underLoad["CTPDESK_SESSION_DB_TIMEOUT"],
		"CTPDESK_LOG_LEVEL=warn",
		"CTPDESK_SHUTDOWN_GRACE=5s",
	)
	replicas := make([]*replica, 3)
	started := make(chan error, len(replicas))
	for i := range replicas {
		r := &replica{name: fmt.Sprintf("replica-%d", i+1)}
		renv := append(slices.Clip(env), "CTPDESK_DATA_DIR="+filepath.Join(dir, r.name))
		replicas[i] = r
		go func() { started <- r.start(ctx, bin, renv) }()
	}
	for range replicas {
		if err := <-started; err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range replicas {
		t.Cleanup(func() { r.stop(t) })
	}
	proxy.setBackends(t, replicas)
	proxySrv.StartTLS()
	defer proxySrv.Close()
	timings.lap("start 3 replicas on one PostgreSQL")

	// A session begun on one replica and finished on the next works on every replica.
	web := proxySrv.Client()
	web.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var users []loadtest.User
	for i := range 6 {
		name, role := "agent", auth.RoleAgent
		if i%2 == 1 {
			name, role = "fraud", auth.RoleFraud
		}
		from, to := replicas[i%3], replicas[(i+1)%3]
		cookie := signInAcross(t, web, from, to, name)
		users = append(users, loadtest.User{Subject: name, Role: role, Cookie: cookie})
	}
	// These views are audited like any other: they join the load's answers in the audit check.
	var checks []loadtest.Observation
	for _, r := range replicas {
		for _, u := range users[:2] {
			status, reqID, body := getWith(t, web, r.url+"/customers/CU00000001", u.Cookie)
			if status != http.StatusOK || !strings.Contains(body, "CU00000001") {
				t.Errorf("%s: the %s session made elsewhere got %d", r.name, u.Subject, status)
			}
			checks = append(checks, loadtest.Observation{Sample: drive.Sample{Kind: loadtest.KindCustomer, Status: status}, RequestID: reqID})
		}
		if status, _, _ := getWith(t, web, r.url+"/customers/CU00000001", "__Host-ctpdesk_sid=forged"); status == http.StatusOK {
			t.Errorf("%s: a forged session cookie was accepted", r.name)
		}
	}
	timings.lap("6 sign-ins across replicas, each session checked on all three")

	// Load through the proxy; SIGKILL replica 2 four seconds in.
	run := loadtest.NewRun(publicURL, users, 500, false, 0)
	victim := replicas[1]
	killed := make(chan time.Time, 1)
	go func() {
		time.Sleep(4 * time.Second)
		proxy.noteKill(victim.name)
		_ = victim.cmd.Process.Signal(syscall.SIGKILL)
		killed <- time.Now()
	}()
	drive.Run(ctx, drive.Options{Users: len(users), Duration: 10 * time.Second, MaxRequests: 50_000,
		Clients: func(int) *http.Client { return web }, Mix: run.Mix})
	killedAt := <-killed
	timings.lap("10 s of load through the proxy, replica 2 killed at 4 s")
	for _, r := range []*replica{replicas[0], replicas[2]} {
		if err := r.terminate(); err != nil {
			t.Errorf("%s did not stop cleanly on SIGTERM: %v\n%s", r.name, err, r.stderr.String())
		}
	}

	obs := run.Observations()
	var ok, proxy502, other, afterSkip, failedAfterSkip int
	skippedAt := proxy.skippedAt(victim.name)
	for _, o := range obs {
		switch {
		case o.Err == nil && o.Status < 400:
			// 200, or the 303 with which / sends a signed-in user to their start page.
			ok++
		case o.Err == nil && o.Status == http.StatusBadGateway:
			proxy502++
		default:
			other++
			t.Errorf("%s answered %d (%v)", o.Kind, o.Status, o.Err)
		}
		if !skippedAt.IsZero() && o.Start.After(skippedAt) {
			afterSkip++
			if o.Err != nil || o.Status >= 400 {
				failedAfterSkip++
			}
		}
	}
	stats := proxy.stats()
	t.Logf("%d requests: %d answered, %d proxy 502s while the dead replica was in the rotation; kill at %s, skipped from %s\nper replica: %s",
		len(obs), ok, proxy502, killedAt.Format("15:04:05.000"), skippedAt.Format("15:04:05.000"), stats)
	if skippedAt.IsZero() {
		t.Fatal("the proxy never noticed the killed replica")
	}
	if proxy502 != proxy.badGateways() {
		t.Errorf("the client saw %d 502s, the proxy made %d: a replica itself answered 5xx", proxy502, proxy.badGateways())
	}
	if afterSkip == 0 || failedAfterSkip > 0 {
		t.Errorf("after the dead replica was skipped, %d of %d requests failed", failedAfterSkip, afterSkip)
	}
	if !proxy.servedBeforeKill(victim.name) {
		t.Error("the killed replica had served nothing before it died: the kill proves nothing")
	}
	for _, r := range []*replica{replicas[0], replicas[2]} {
		if !proxy.servedAfterKill(r.name) {
			t.Errorf("%s served nothing after the kill", r.name)
		}
	}

	// Every answer the client got has its event, once; the chain verifies.
	db, err := store.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keyBytes, _ := hex.DecodeString(auditKey)
	trail, err := audit.New(db, audit.Options{Key: keyBytes, CheckpointEvery: 25})
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close()
	events, err := loadtest.AuditEventsByRequest(ctx, trail, loadtest.AuditedActions...)
	if err != nil {
		t.Fatal(err)
	}
	okIDs := loadtest.OKRequestIDs(append(obs, checks...))
	unanswered := 0
	for _, action := range loadtest.AuditedActions {
		m := loadtest.MatchAudit(action, okIDs[action], events[action])
		t.Logf("audit: %s", m)
		if m.Responses == 0 || m.Missing > 0 || m.Duplicated > 0 {
			t.Errorf("%s: %d answers, %d without their event, %d with more than one", action, m.Responses, m.Missing, m.Duplicated)
		}
		unanswered += m.Unanswered
	}
	// An event without an answer can only be a request the killed replica recorded and then
	// died before answering: the client saw those as the proxy's 502s.
	if unanswered > proxy502 {
		t.Errorf("%d events have no answer, but only %d requests were lost with the killed replica", unanswered, proxy502)
	}
	wl, err := audit.ReadWitnessFile(witness)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := trail.VerifyWitnessed(ctx, wl)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Witness.Seals == 0 {
		t.Errorf("audit chain against the shared witness: %s", rep)
	}
	timings.lap("read and verify the shared audit trail: " + rep.String())
	t.Logf("timings:\n%s", timings)
}

// signInAcross begins a sign-in on replica from, completes it at the IdP as user (password
// demo), and finishes it on replica to, returning the session cookie ("name=value").
func signInAcross(t testing.TB, web *http.Client, from, to *replica, user string) string {
	t.Helper()
	resp := mustDo(t, web, http.MethodGet, from.url+"/auth/start?next=/customers", "", nil)
	preLogin := cookieHeader(resp.Cookies())
	authorize := mustLocation(t, resp)
	loginPage := mustLocation(t, mustDo(t, web, http.MethodGet, authorize.String(), "", nil))
	form := url.Values{"authRequestID": {loginPage.Query().Get("authRequestID")}, "username": {user}, "password": {devidp.DefaultPassword}}
	back := mustLocation(t, mustDo(t, web, http.MethodPost, loginPage.String(), "", form))
	callback := mustLocation(t, mustDo(t, web, http.MethodGet, back.String(), "", nil))
	if callback.Path != "/auth/callback" {
		t.Fatalf("the IdP sent %s back to %s, not to the callback", user, callback)
	}
	resp = mustDo(t, web, http.MethodGet, to.url+"/auth/callback?"+callback.RawQuery, preLogin, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback on %s for a sign-in begun on %s answered %d", to.name, from.name, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "ctpdesk_sid") && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("callback on %s set no session cookie", to.name)
	return ""
}

func mustDo(t testing.TB, c *http.Client, method, target, cookie string, form url.Values) *http.Response {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	resp.Body.Close()
	return resp
}

func mustLocation(t testing.TB, resp *http.Response) *url.URL {
	t.Helper()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("%s %s answered %d without a redirect", resp.Request.Method, resp.Request.URL, resp.StatusCode)
	}
	return loc
}

// getWith GETs target with cookie and returns the status, the request id and the body.
func getWith(t *testing.T, c *http.Client, target, cookie string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", target, err)
	}
	return resp.StatusCode, resp.Header.Get("X-Request-Id"), string(body)
}

func cookieHeader(cs []*http.Cookie) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// stopwatch collects the durations of a test's stages for its log.
type stopwatch struct {
	last  time.Time
	lines []string
}

func (s *stopwatch) lap(what string) {
	now := time.Now()
	if s.last.IsZero() {
		s.last = now
	}
	s.lines = append(s.lines, fmt.Sprintf("  %8s  %s", now.Sub(s.last).Round(10*time.Millisecond), what))
	s.last = now
}

func (s *stopwatch) String() string { return strings.Join(s.lines, "\n") }
