package scan

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/pgtest"
	"ctpdesk/issuerdb"
	"ctpdesk/store"
)

// Test portfolio: the seed the sandbox derives its profiles from, and the issuer id.
const (
	testSeed   = 11
	testIssuer = "SCANTEST01"
)

// testKey is the fingerprint key of the tests (32 bytes).
var testKey = []byte("scan-test-fingerprint-key-32byte")

// backend is one dashboard database engine under test.
type backend struct{ name, url string }

// backends returns a fresh dashboard database per engine: SQLite always, PostgreSQL when
// CTPDESK_TEST_POSTGRES_URL is set.
func backends(t testing.TB) []backend {
	t.Helper()
	out := []backend{{"sqlite", "sqlite:" + filepath.Join(t.TempDir(), "dash.db")}}
	if pgtest.Configured(t) {
		out = append(out, backend{"postgres", pgtest.URL(t, "ctpdesk_scan_test")})
	}
	return out
}

// world is a seeded issuer portfolio, a D1 sandbox serving it and a D1 client pointed at it.
type world struct {
	cfg     d1.Config
	srv     *httptest.Server
	issuer  *issuerdb.DB
	sandbox *d1sandbox.Server
	client  *d1.Client
	calls   *callLog // when profile calls reached the sandbox
	sent    *callLog // when the replicas' clients sent them
	n       int
}

// newWorld seeds n customers and starts the sandbox.
func newWorld(t testing.TB, n int) *world {
	t.Helper()
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "issuer.db")
	if err := issuerdb.Seed(ctx, url, n, testSeed); err != nil {
		t.Fatal(err)
	}
	idb, err := issuerdb.Open(ctx, url, issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idb.Close() })
	sb, err := d1sandbox.New(d1sandbox.Options{IssuerID: testIssuer, Portfolio: idb, Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	calls := &callLog{}
	srv := httptest.NewServer(calls.wrap(sb))
	t.Cleanup(func() { sb.Close(); srv.Close() })
	kid, key, _ := sb.GeneratedKey()
	w := &world{issuer: idb, sandbox: sb, calls: calls, sent: &callLog{}, n: n, srv: srv, cfg: d1.Config{
		AuthzURL: srv.URL + "/authz/v1", BankingURL: srv.URL + "/banking/v1", IssuerID: testIssuer,
		SigningKey: key, KeyID: kid, Timeout: 5 * time.Second, BreakerOpenTimeout: time.Second,
	}}
	w.client = w.newClient(t)
	return w
}

// newClient is another replica's D1 client on the same sandbox.
func (w *world) newClient(t testing.TB) *d1.Client {
	t.Helper()
	// The production transport (its connection pool), as a replica has it.
	hc, err := d1.NewHTTPClient(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc.Transport = sentLog{log: w.sent, next: hc.Transport}
	c, err := d1.New(w.cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// callLog records when each profile request reached the sandbox, as the sandbox sees it.
type callLog struct {
	mu sync.Mutex
	at []time.Time
}

func (l *callLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProfileCall(r) {
			l.add(time.Now())
		}
		h.ServeHTTP(w, r)
	})
}

// sentLog records in log when each profile request leaves the client, before the network and
// the sandbox's scheduling can delay it.
type sentLog struct {
	log  *callLog
	next http.RoundTripper
}

func (s sentLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if isProfileCall(r) {
		s.log.add(time.Now())
	}
	return s.next.RoundTrip(r)
}

// isProfileCall says r asks D1 for a consumer's profiles, the calls the rate cap counts.
func isProfileCall(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/"+d1.ProfilesPathSuffix)
}

func (l *callLog) add(at time.Time) {
	l.mu.Lock()
	l.at = append(l.at, at)
	l.mu.Unlock()
}

// perSecond counts the calls in each whole second of wall-clock time.
func (l *callLog) perSecond() map[int64]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]int{}
	for _, t := range l.at {
		out[t.Unix()]++
	}
	return out
}

func (l *callLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.at)
}

// mustStore opens a dashboard database.
func mustStore(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustScanner builds and starts a scanner on db over w.
func mustScanner(t testing.TB, db *store.DB, w *world, mutate func(*Options)) *Scanner {
	t.Helper()
	o := Options{
		DB: db, Portfolio: w.issuer, D1: w.client, Key: testKey, Work: true,
		Workers: 2, ChunkSize: 40, PollInterval: 50 * time.Millisecond, JobTimeout: time.Minute,
	}
	if mutate != nil {
		mutate(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// waitFor polls the scan until cond holds, failing the test after limit.
func waitFor(t testing.TB, s *Scanner, id int64, limit time.Duration, cond func(Progress) bool) Progress {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		p, err := s.Progress(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan %d did not get there in %s: %+v", id, limit, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func finished(p Progress) bool { return p.State == StateFinished }

// fetchFresh asks D1 rather than the client's cache.
var fetchFresh = d1.FetchOptions{Fresh: true}

// consumerID is the consumer id of the i-th customer of the portfolio.
func (w *world) consumerID(t testing.TB, i int) string {
	t.Helper()
	return issuerdb.NewGenerator(testSeed).Customer(i).ConsumerID
}

// reset forgets the calls recorded so far.
func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at = nil
}

// fullSeconds counts the calls in each wall-clock second between the first call's second and
// the last call's, both left out (the calls began and ended inside them).
func (l *callLog) fullSeconds() []float64 {
	per := l.perSecond()
	if len(per) == 0 {
		return nil
	}
	first, last := int64(1<<62), int64(0)
	for sec := range per {
		first, last = min(first, sec), max(last, sec)
	}
	var out []float64
	for sec := first + 1; sec < last; sec++ {
		out = append(out, float64(per[sec]))
	}
	return out
}

// since counts the calls that arrived after t.
func (l *callLog) since(t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.at {
		if at.After(t) {
			n++
		}
	}
	return n
}

// waitQuiet waits until no call has arrived for quiet, failing after limit.
func (l *callLog) waitQuiet(t testing.TB, quiet, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for l.since(time.Now().Add(-quiet)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("calls still arriving after %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// span is the time from the first recorded call to the last.
func (l *callLog) span() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.at) == 0 {
		return 0
	}
	lo, hi := l.at[0], l.at[0]
	for _, at := range l.at {
		if at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
	}
	return hi.Sub(lo)
}
