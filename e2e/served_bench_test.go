package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ctpdesk/issuerdb"
)

// portfolioSeed is the seed of the synthetic portfolio the signed-in benchmarks search, the
// same as the issuerdb benchmarks', so both read one cached file at a million customers.
const portfolioSeed = 42

// smallPortfolio is the portfolio size when CTPDESK_BENCH_CUSTOMERS is unset: `go test -bench`
// stays quick, and `make bench` sets a million.
const smallPortfolio = 5000

// benchPortfolio is the issuer database the signed-in benchmarks run on.
type benchPortfolio struct {
	URL       string
	Customers int
}

// signedInPortfolio returns the SQLite issuer database of CTPDESK_BENCH_CUSTOMERS customers:
// the file the issuerdb benchmarks keep in the temp directory (written here only when it does
// not exist yet, and then only read, as the dashboard reads an issuer's replica), or a small
// portfolio seeded afresh when the variable is unset.
func signedInPortfolio(b *testing.B) benchPortfolio {
	b.Helper()
	raw := os.Getenv("CTPDESK_BENCH_CUSTOMERS")
	if raw == "" {
		u := "sqlite:" + filepath.Join(b.TempDir(), "issuer.db")
		if err := issuerdb.Seed(context.Background(), u, smallPortfolio, portfolioSeed); err != nil {
			b.Fatal(err)
		}
		return benchPortfolio{URL: u, Customers: smallPortfolio}
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 100 || n > issuerdb.MaxSeedCustomers {
		b.Fatalf("CTPDESK_BENCH_CUSTOMERS=%q: want a number from 100 to %d", raw, issuerdb.MaxSeedCustomers)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("ctpdesk-bench-%d-%d.db", n, portfolioSeed))
	u := "sqlite:" + path
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		start := time.Now()
		if err := issuerdb.Seed(context.Background(), u, n, portfolioSeed); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d customers into %s in %s", n, path, time.Since(start).Round(time.Millisecond))
	}
	return benchPortfolio{URL: u, Customers: n}
}

// servedApp is `ctpdesk serve` running as a child process, as in production: its own
// process (so /proc shows its memory alone), a SQLite dashboard database holding its sessions
// and its durable audit trail, the issuer database opened read-only, and the D1 sandbox and
// the development OpenID Provider in this process over TLS on loopback.
type servedApp struct {
	proc *replica
	// Portfolio is this process's read-only handle on the same issuer database.
	Portfolio *issuerdb.DB
	// web reaches the app and the provider without following redirects.
	web *http.Client
}

// startServed builds the binary and starts it over the issuer database at issuerURL, with
// extra environment variables appended.
func startServed(b *testing.B, issuerURL string, extra ...string) *servedApp {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	bin := filepath.Join(dir, "ctpdesk")
	// The go command on PATH picks the toolchain go.mod names, the one this test was built with.
	if out, err := exec.Command("go", "build", "-o", bin, "ctpdesk").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	portfolio, err := issuerdb.Open(ctx, issuerURL, issuerdb.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { portfolio.Close() })
	// The app serves plain http on loopback; its public URL only names the callback the
	// provider sends the browser to, and the sign-in helper carries that to the app itself.
	const publicURL = "https://ctpdesk.bench.test"
	deps := startServeDeps(b, dir, publicURL, "ctpdesk-bench", portfolio, portfolioSeed)
	env := append(deps.Env(),
		"CTPDESK_ADDR=127.0.0.1:0",
		"CTPDESK_PUBLIC_URL="+publicURL,
		"CTPDESK_DATA_DIR="+filepath.Join(dir, "data"),
		"CTPDESK_DATABASE_URL=sqlite:"+filepath.Join(dir, "ctpdesk.db"),
		"CTPDESK_ISSUER_DATABASE_URL="+issuerURL,
		"CTPDESK_AUDIT_HMAC_KEY="+randomHex(b, 32),
		"CTPDESK_AUDIT_WITNESS="+filepath.Join(dir, "audit-witness.jsonl"),
		// The benchmarks sign many users in from one address.
		"CTPDESK_SIGNIN_RATE=6000",
		"CTPDESK_AUDIT_RECORD_TIMEOUT="+underLoad["CTPDESK_AUDIT_RECORD_TIMEOUT"],
		"CTPDESK_SESSION_DB_TIMEOUT="+underLoad["CTPDESK_SESSION_DB_TIMEOUT"],
		"CTPDESK_LOG_LEVEL=warn",
		"CTPDESK_SHUTDOWN_GRACE=5s",
	)
	r := &replica{name: "ctpdesk serve"}
	if err := r.start(ctx, bin, append(env, extra...)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.stop(b) })
	return &servedApp{proc: r, Portfolio: portfolio, web: deps.Web}
}

// URL is the app's base URL.
func (s *servedApp) URL() string { return s.proc.url }

// PID is the app's process id.
func (s *servedApp) PID() int { return s.proc.cmd.Process.Pid }

// SignIn signs user in through the OpenID Provider, as a browser does, and returns the
// session cookie ("name=value") to send with each request.
func (s *servedApp) SignIn(b *testing.B, user string) string {
	b.Helper()
	return signInAcross(b, s.web, s.proc, s.proc, user)
}

// keepAliveClient is one browser's worth of connections to the app: up to conns kept open.
func keepAliveClient(conns int) *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// signedInGet GETs target with the session cookie, as htmx does when hx is set, reads the
// whole body and returns how long that took; any answer but 200 is an error.
func signedInGet(ctx context.Context, client *http.Client, target, cookie string, hx bool) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Cookie", cookie)
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d", req.URL.Path, resp.StatusCode)
	}
	return d, nil
}

// searchKinds are the kinds of query the signed-in search benchmark measures, in report order.
// An address is a kind of its own when one customer has it (email) and when several share
// it (email-shared: a common name at a common provider, a page of rows and a count): the
// medians of a kind that mixes the two fall between them, where neither is.
var searchKinds = []string{"customer-id", "consumer-id", "email", "email-shared", "phone", "last4",
	"last4+name", "name-exact", "name-prefix", "name-1letter"}

// portfolioQueries returns, per kind, queries built from customers spread over the whole
// portfolio (rebuilt by the generator from the portfolio's seed), so that every query
// matches someone and caches see realistic variety.
func portfolioQueries(customers int) map[string][]string {
	g := issuerdb.NewGenerator(portfolioSeed)
	r := rand.New(rand.NewPCG(1, 2))
	out := map[string][]string{}
	for range 200 {
		c := g.Customer(r.IntN(customers))
		first, last := []rune(issuerdb.Fold(c.FirstName)), []rune(issuerdb.Fold(c.LastName))
		out["customer-id"] = append(out["customer-id"], c.ID)
		out["consumer-id"] = append(out["consumer-id"], c.ConsumerID)
		out["email"] = append(out["email"], c.Email)
		out["phone"] = append(out["phone"], c.Phone)
		out["last4"] = append(out["last4"], c.Cards[0].Last4)
		out["last4+name"] = append(out["last4+name"], c.Cards[0].Last4+" "+string(last[:min(4, len(last))]))
		out["name-exact"] = append(out["name-exact"], c.FirstName+" "+c.LastName)
		out["name-prefix"] = append(out["name-prefix"], string(last[:min(3, len(last))])+" "+string(first[:min(2, len(first))]))
		out["name-1letter"] = append(out["name-1letter"], string(last[:1]))
	}
	return out
}

// splitSharedEmails moves the email queries that find more than one customer in db from
// "email" to "email-shared".
func splitSharedEmails(b *testing.B, db *issuerdb.DB, queries map[string][]string) {
	b.Helper()
	var own, shared []string
	for _, q := range queries["email"] {
		page, err := db.Search(context.Background(), issuerdb.Query{Text: q})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Customers) > 1 {
			shared = append(shared, q)
		} else {
			own = append(own, q)
		}
	}
	if len(own) == 0 || len(shared) == 0 {
		b.Fatalf("email queries: %d of one customer, %d shared; want some of each", len(own), len(shared))
	}
	queries["email"], queries["email-shared"] = own, shared
}

// searchURL is the search a user types, as htmx sends it.
func searchURL(base, q string) string {
	return base + "/customers?" + url.Values{"q": {q}}.Encode()
}
