package d1_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/syncbuf"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
	"ctpdesk/issuerdb"
)

const (
	testIssuer = "CTPDESK_T1"
	testSeed   = 42
)

// env is a client talking to a sandbox over real HTTP.
type env struct {
	sb        *d1sandbox.Server
	srv       *httptest.Server
	client    *d1.Client
	cfg       d1.Config
	portfolio *d1test.Portfolio
	logs      *syncBuffer
	metrics   *recordingMetrics
}

// envOptions tweak newEnv.
type envOptions struct {
	cfg     func(*d1.Config)
	clock   *d1test.Clock
	sandbox func(*d1sandbox.Options)
}

// newEnv starts a sandbox with 400 test customers and a client pointed at it.
func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{portfolio: d1test.NewPortfolio(400), logs: &syncBuffer{}, metrics: newRecordingMetrics()}
	opts := d1sandbox.Options{IssuerID: testIssuer, Portfolio: e.portfolio, Seed: testSeed}
	if o.clock != nil {
		opts.Now = o.clock.Now
	}
	if o.sandbox != nil {
		o.sandbox(&opts)
	}
	sb, err := d1sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.sb = sb
	e.srv = httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); e.srv.Close() })
	kid, key, ok := sb.GeneratedKey()
	if !ok {
		t.Fatal("sandbox generated no key")
	}
	e.cfg = d1.Config{
		AuthzURL:   e.srv.URL + "/authz/v1",
		BankingURL: e.srv.URL + "/banking/v1",
		IssuerID:   testIssuer,
		SigningKey: key,
		KeyID:      kid,
		Timeout:    2 * time.Second,
	}
	if o.cfg != nil {
		o.cfg(&e.cfg)
	}
	clientOpts := []d1.Option{
		d1.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		d1.WithMetrics(e.metrics),
	}
	if o.clock != nil {
		clientOpts = append(clientOpts, d1.WithClock(o.clock))
	}
	c, err := d1.New(e.cfg, e.srv.Client(), clientOpts...)
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	return e
}

// customerWhere returns the first test customer whose derivation satisfies ok.
func (e *env) customerWhere(t testing.TB, ok func(d1sandbox.Derivation) bool) (issuerdb.Customer, []d1.Profile) {
	t.Helper()
	for _, c := range e.portfolio.All() {
		profiles, dv := d1sandbox.Derive(testSeed, c)
		if ok(dv) {
			return c, profiles
		}
	}
	t.Fatal("no test customer matches")
	return issuerdb.Customer{}, nil
}

// matchCustomer returns a customer of kind match with at least one card in a directory.
func (e *env) matchCustomer(t testing.TB) issuerdb.Customer {
	c, _ := e.customerWhere(t, func(dv d1sandbox.Derivation) bool { return dv.Kind == d1sandbox.KindMatch })
	return c
}

// syncBuffer is safe for the writers of a running program and the test's readers at once.
type syncBuffer = syncbuf.Buffer

// recordingMetrics counts what the client reports.
type recordingMetrics struct {
	mu       sync.Mutex
	calls    map[string]int // op/class
	attempts map[string]int // op
	retries  int
	cache    map[string]int
	breaker  []string
}

func newRecordingMetrics() *recordingMetrics {
	return &recordingMetrics{calls: map[string]int{}, attempts: map[string]int{}, cache: map[string]int{}}
}

func (m *recordingMetrics) ObserveCall(op, class string, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[op+"/"+class]++
}

func (m *recordingMetrics) ObserveAttempt(op string, _ int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempts[op]++
}

func (m *recordingMetrics) ObserveRetry(string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.retries++
}

func (m *recordingMetrics) ObserveCache(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cache[outcome]++
}

func (m *recordingMetrics) ObserveBreaker(url, state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.breaker = append(m.breaker, state)
}

func (m *recordingMetrics) get(f func(m *recordingMetrics) int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return f(m)
}

// countingHandler wraps a handler and counts requests by path.
type countingHandler struct {
	next http.Handler
	mu   sync.Mutex
	hits []time.Time
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.hits = append(c.hits, time.Now())
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}
