package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
	"ctpdesk/internal/devstack"
	"ctpdesk/issuerdb"
)

// loadSeed is the synthetic portfolio's seed in load runs; the query generator rebuilds the
// same customers from it.
const loadSeed = 1

// loadHarness is a complete dev dashboard running in this process for a load run: the seeded
// issuer database, the D1 sandbox behind a front that can fail, the development IdP, and the
// dashboard itself on a loopback port.
type loadHarness struct {
	app        *app.App
	stack      *devstack.Stack
	url        string // the dashboard's base URL
	sandbox    *d1sandbox.Server
	front      *d1Front
	d1         *d1.Client
	bankingURL string // the breaker's key in the D1 client
	portfolio  *issuerdb.DB
	stopServe  context.CancelFunc
	served     chan error
	stopped    bool
}

// startLoadHarness seeds the issuer database, starts the sandbox and its front, and builds and
// serves the dev app configured to reach D1 through the front.
func startLoadHarness(ctx context.Context, o loadOptions) (*loadHarness, error) {
	h := &loadHarness{}
	started := false
	defer func() {
		if !started {
			_ = h.stop()
			h.close()
		}
	}()
	issuerURL := "sqlite:" + filepath.Join(o.DataDir, config.DevIssuerDBFile)
	start := time.Now()
	if _, err := issuerdb.EnsureSeeded(ctx, issuerURL, o.Customers, loadSeed); err != nil {
		return nil, fmt.Errorf("loadtest: seed issuer database: %w", err)
	}
	fmt.Fprintf(o.Log, "loadtest: seeded %d customers in %s\n", o.Customers, time.Since(start).Round(time.Millisecond))
	var err error
	if h.portfolio, err = issuerdb.Open(ctx, issuerURL, issuerdb.Options{ReadOnly: true}); err != nil {
		return nil, fmt.Errorf("loadtest: open issuer database for the sandbox: %w", err)
	}
	h.sandbox, err = d1sandbox.New(d1sandbox.Options{
		IssuerID: config.DevIssuerID, Portfolio: h.portfolio, Seed: loadSeed,
		Fault: d1sandbox.Fault{Latency: o.D1Latency},
	})
	if err != nil {
		return nil, fmt.Errorf("loadtest: sandbox: %w", err)
	}
	kid, key, _ := h.sandbox.GeneratedKey()
	_, keyFile, err := devstack.WriteSandboxKeys(filepath.Join(o.DataDir, "sandbox"), kid, key)
	if err != nil {
		return nil, err
	}
	if h.front, err = newD1Front(h.sandbox); err != nil {
		return nil, err
	}
	h.bankingURL = h.front.URL() + "/banking/v1"

	vars := map[string]string{
		"CTPDESK_ADDR":                "127.0.0.1:0",
		"CTPDESK_DATA_DIR":            o.DataDir,
		"CTPDESK_DEVIDP_ADDR":         "127.0.0.1:0",
		"CTPDESK_SANDBOX_ADDR":        "127.0.0.1:0",
		"CTPDESK_DEV_CUSTOMERS":       strconv.Itoa(o.Customers),
		"CTPDESK_DEV_SEED":            strconv.Itoa(loadSeed),
		"CTPDESK_D1_AUTHZ_URL":        h.front.URL() + "/authz/v1",
		"CTPDESK_D1_BANKING_URL":      h.bankingURL,
		"CTPDESK_D1_ISSUER_ID":        config.DevIssuerID,
		"CTPDESK_D1_SIGNING_KEY_FILE": keyFile,
		"CTPDESK_D1_KEY_ID":           kid,
		// The load run checks that every answer is right and every event recorded, on a
		// machine that may be busy; a slow commit is not an outage here.
		"CTPDESK_AUDIT_RECORD_TIMEOUT": "30s",
		"CTPDESK_SESSION_DB_TIMEOUT":   "30s",
	}
	if o.Fault {
		// The fault sequence's stale probe must still be in the D1 cache when D1 goes down,
		// whatever the users opened meanwhile.
		vars["CTPDESK_D1_CACHE_SIZE"] = strconv.Itoa(max(d1.DefaultCacheSize, o.Customers))
	}
	for k, v := range o.Env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] }, config.ModeDev)
	if err != nil {
		return nil, fmt.Errorf("loadtest: configuration:\n%w", err)
	}
	// The same dashboard `ctpdesk dev` runs: the development stack (with D1 pointed at the
	// front, so no second sandbox starts), then the app over the settings it produced.
	log := slog.New(slog.NewJSONHandler(o.Log, nil))
	ln, err := app.Listen(&cfg)
	if err != nil {
		return nil, err
	}
	if h.stack, err = devstack.Start(ctx, cfg, o.Log, log); err != nil {
		ln.Close()
		return nil, err
	}
	a, err := app.New(ctx, h.stack.Config, app.Options{Version: "loadtest", Stdout: o.Log, Log: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	h.app = a
	h.d1 = a.D1()
	h.url = "http://" + ln.Addr().String()
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.stopServe, h.served = cancel, make(chan error, 1)
	go func() { h.served <- a.Serve(sctx, ln) }()
	if err := h.waitHealthy(ctx); err != nil {
		return nil, err
	}
	started = true
	return h, nil
}

// waitHealthy polls /healthz until the dashboard answers, for at most 30 seconds.
func (h *loadHarness) waitHealthy(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(h.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadtest: the dashboard did not answer /healthz within 30s (last error: %v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the dashboard down the way SIGTERM does and waits for it, so that everything it
// acknowledged is on disk before the audit trail is read back.
func (h *loadHarness) stop() error {
	if h.app == nil || h.stopped {
		return nil
	}
	h.stopped = true
	h.stopServe()
	select {
	case err := <-h.served:
		return err
	case <-time.After(90 * time.Second):
		return errors.New("loadtest: the dashboard did not stop within 90s")
	}
}

// close releases what stop does not: the sandbox, its front and the sandbox's database handle.
func (h *loadHarness) close() {
	if h.stack != nil {
		h.stack.Close()
	}
	if h.front != nil {
		h.front.close()
	}
	if h.sandbox != nil {
		h.sandbox.Close()
	}
	if h.portfolio != nil {
		h.portfolio.Close()
	}
}

// User is one virtual user: a signed-in session of its own.
type User struct {
	Subject string
	Role    auth.Role
	Cookie  string // "name=value" for the Cookie header
}

// signIn creates one session per virtual user through the dashboard's own session store, the
// same call the OIDC callback makes after a successful sign-in. Users alternate between the
// agent and fraud roles.
func (h *loadHarness) signIn(ctx context.Context, n int) ([]User, error) {
	users := make([]User, n)
	for i := range users {
		role := auth.RoleAgent
		if i%2 == 1 {
			role = auth.RoleFraud
		}
		u := auth.User{
			Issuer:  h.app.Config().OIDC.Issuer,
			Subject: fmt.Sprintf("loadtest-%04d", i+1),
			Name:    fmt.Sprintf("Load test user %d", i+1),
			Roles:   []auth.Role{role},
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, h.url+"/auth/callback", nil)
		groups := h.app.Config().Roles.Map()[role]
		if len(groups) == 0 {
			return nil, fmt.Errorf("loadtest: no provider group is mapped to the %s role", role)
		}
		if _, err := h.app.Sessions().Start(rec, req, auth.Grant{User: u, Groups: groups[:1]}); err != nil {
			return nil, fmt.Errorf("loadtest: start session %d: %w", i+1, err)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == h.app.Sessions().CookieName() {
				users[i] = User{Subject: u.Subject, Role: role, Cookie: c.Name + "=" + c.Value}
			}
		}
		if users[i].Cookie == "" {
			return nil, fmt.Errorf("loadtest: session %d set no %s cookie", i+1, h.app.Sessions().CookieName())
		}
	}
	return users, nil
}

// d1Front stands between the dashboard's D1 client and the sandbox. It passes requests
// through, fails a chosen share of them with 503, and can go down entirely (listener closed,
// every connection cut, so the client meets refused connections) and come back on the same
// address: what a D1 outage looks like from the dashboard.
type d1Front struct {
	handler  http.Handler
	addr     string
	failRate atomic.Uint64 // math.Float64bits of the share of requests answered 503

	mu    sync.Mutex
	srv   *http.Server
	fresh map[net.Conn]time.Time // connections accepted and not yet sent a request, since when
}

func newD1Front(h http.Handler) (*d1Front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loadtest: D1 front: %w", err)
	}
	f := &d1Front{handler: h, addr: ln.Addr().String()}
	f.serve(ln)
	return f, nil
}

// URL is the front's base URL.
func (f *d1Front) URL() string { return "http://" + f.addr }

func (f *d1Front) serve(ln net.Listener) {
	srv := &http.Server{
		Handler: f, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second,
		ConnState: f.track,
	}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// track remembers the connections that have not yet carried a request. The D1 client's
// transport dials a spare connection when a request waits and parks it unused if another one
// frees up first; http.Server.Shutdown counts such a connection as busy for its first five
// seconds, which is not a request in flight and must not read as one.
func (f *d1Front) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state == http.StateNew {
		if f.fresh == nil {
			f.fresh = make(map[net.Conn]time.Time)
		}
		f.fresh[c] = time.Now()
		return
	}
	delete(f.fresh, c)
}

// closeUnused closes the connections that have carried no request for at least age.
func (f *d1Front) closeUnused(age time.Duration) {
	f.mu.Lock()
	var stale []net.Conn
	for c, since := range f.fresh {
		if time.Since(since) >= age {
			stale = append(stale, c)
			delete(f.fresh, c)
		}
	}
	f.mu.Unlock()
	for _, c := range stale {
		_ = c.Close()
	}
}

// ServeHTTP answers the share of requests set by setFailureRate with 503, the rest from the
// sandbox.
func (f *d1Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rate := math.Float64frombits(f.failRate.Load()); rate > 0 && rand.Float64() < rate {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":"Service Unavailable"}`)
		return
	}
	f.handler.ServeHTTP(w, r)
}

// setFailureRate makes the front answer that share of requests (0..1) with 503.
func (f *d1Front) setFailureRate(rate float64) { f.failRate.Store(math.Float64bits(rate)) }

// down closes the listener and cuts every open connection at once.
func (f *d1Front) down() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// up listens again on the front's address. The port was ours a moment ago; a few retries cover
// the kernel releasing it.
func (f *d1Front) up() error {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", f.addr); err == nil {
			f.serve(ln)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("loadtest: D1 front: listen again on %s: %w", f.addr, err)
}

// dropIdle closes the D1 client's idle keep-alive connections from the server side and
// listens again. In-flight requests may finish within ctx; if they do not, that is reported,
// because a request still open after the load stopped is a leak.
func (f *d1Front) dropIdle(ctx context.Context) error {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv == nil {
		return f.up()
	}
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	var err error
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-time.After(50 * time.Millisecond):
			// A connection a request is about to use sends its header within milliseconds
			// of the dial; one still silent after a second is a parked spare.
			f.closeUnused(time.Second)
		}
	}
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("loadtest: D1 requests still open after the load stopped: %w", err)
	}
	return errors.Join(err, f.up())
}

func (f *d1Front) close() { f.down() }
