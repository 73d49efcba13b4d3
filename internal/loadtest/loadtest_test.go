package loadtest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/loadtest/drive"
)

// TestLoadShort is the load test in short form: 20 signed-in users make 600 requests against
// the whole dev dashboard in this process. Every answer must be 2xx, every customer page must
// be followed by its comparison, and the audit trail must hold exactly one event per search,
// customer page and comparison the users received, and verify. The run is bounded by its
// request count; the time bound is only a ceiling, so a slow machine makes it longer, not
// wrong. The p99 budgets are held by `make loadtest` only: under the race detector on a
// shared machine these latencies measure the detector, and speed is never asserted by a test.
// The mix's proportions are TestMixProportions's.
func TestLoadShort(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const requests = 600
	res, err := runLoad(ctx, loadOptions{
		Users: 20, Duration: 3 * time.Minute, MaxRequests: requests, Customers: 2000,
		DataDir: dir, Log: logFile, Env: map[string]string{"CTPDESK_LOG_LEVEL": "warn"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	printLoadResult(&out, res)
	t.Log("\n" + out.String())
	for _, c := range res.Failed() {
		t.Errorf("%s: %s", c.Name, c.Detail)
	}
	if len(res.Obs) > requests {
		t.Errorf("%d requests made, more than the bound of %d", len(res.Obs), requests)
	}
}

// TestMixProportions draws many actions from the mix with a seeded generator: 60 % searches,
// 30 % customer pages, 10 % other pages; searches by every kind in their weights; customer
// pages only of customers the probes do not reserve.
func TestMixProportions(t *testing.T) {
	const customers, draws = 2000, 100_000
	run := NewRun("http://127.0.0.1:1", []User{{Cookie: "s=1"}}, customers, false, 0)
	reserved := map[string]bool{}
	for _, id := range run.probeIDs() {
		reserved[id] = true
	}
	if len(reserved) != probeCustomers {
		t.Fatalf("%d probe customers, want %d", len(reserved), probeCustomers)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	kinds := map[string]int{}
	var searches, pages, others int
	for range draws {
		s := run.pick(rng)
		kinds[s.Kind]++
		switch {
		case strings.HasPrefix(s.Kind, kindSearchPrefix):
			searches++
			if s.HXFrom != "/customers" || !strings.HasPrefix(s.Path, "/customers?q=") {
				t.Fatalf("search %+v is not the htmx request of the search page", s)
			}
		case s.Kind == KindCustomer:
			pages++
			if reserved[s.Customer] {
				t.Fatalf("a user opened the probe customer %s", s.Customer)
			}
			if s.Path != "/customers/"+s.Customer {
				t.Fatalf("customer page %+v", s)
			}
		default:
			others++
		}
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if got < want-0.01 || got > want+0.01 {
			t.Errorf("%s: %.1f%%, want %.0f%%", what, 100*got, 100*want)
		}
	}
	near("searches of all actions", float64(searches)/draws, 0.60)
	near("customer pages of all actions", float64(pages)/draws, 0.30)
	near("other pages of all actions", float64(others)/draws, 0.10)
	for kind, weight := range map[string]float64{"name": 0.35, "email": 0.15, "phone": 0.15, "last4": 0.15, "customer-id": 0.10, "consumer-id": 0.10} {
		near("searches by "+kind, float64(kinds[kindSearchPrefix+kind])/float64(searches), weight)
	}
	for _, kind := range []string{kindHome, kindSearchPage, kindHealthz} {
		if kinds[kind] == 0 {
			t.Errorf("no %s was drawn", kind)
		}
	}
}

// TestMixFollowsCustomerPageWithItsComparison: a customer page answered 200 makes the user's
// next request that customer's comparison, as an htmx request from the page; one answered
// otherwise does not; probes are recorded apart from the users' sequences.
func TestMixFollowsCustomerPageWithItsComparison(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" hx="+r.Header.Get("HX-Request")+" from="+r.Header.Get("HX-Current-URL")+" "+r.Header.Get("Cookie"))
		mu.Unlock()
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	run := NewRun(srv.URL, []User{{Cookie: "s=u0"}, {Cookie: "s=u1"}}, 2000, false, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	nextPage := func() drive.Request {
		for {
			if req := run.Mix(1, rng); req.Kind == KindCustomer {
				return req
			}
		}
	}
	if _, err := nextPage().Do(context.Background(), srv.Client()); err != nil {
		t.Fatal(err)
	}
	next := run.Mix(1, rng)
	if next.Kind != kindComparison {
		t.Fatalf("after a customer page the next request is %s", next.Kind)
	}
	if _, err := next.Do(context.Background(), srv.Client()); err != nil {
		t.Fatal(err)
	}
	reqs := seen()
	id := strings.TrimPrefix(strings.Fields(reqs[0])[0], "/customers/")
	want := "/customers/" + id + "/comparison hx=true from=" + srv.URL + "/customers/" + id + " s=u1"
	if len(reqs) != 2 || reqs[1] != want {
		t.Errorf("requests %q, want the page then %q", reqs, want)
	}

	status.Store(http.StatusNotFound)
	if _, err := nextPage().Do(context.Background(), srv.Client()); err != nil {
		t.Fatal(err)
	}
	if k := run.Mix(1, rng).Kind; k == kindComparison {
		t.Error("a customer page answered 404 was followed by a comparison")
	}

	status.Store(http.StatusOK)
	run.Probe(context.Background(), srv.Client(), run.probeIDs()[0])
	obs := run.Observations()
	if last := obs[len(obs)-1]; last.User != probeUser || last.Kind != kindComparison {
		t.Errorf("the probe was recorded as %+v", last)
	}
	if bad := unfollowedPages(obs); len(bad) != 0 {
		t.Errorf("pages reported unfollowed: %v", bad)
	}
}

// TestUnfollowedPages: a customer page followed by anything but its own comparison is
// reported, unless it was the user's last request.
func TestUnfollowedPages(t *testing.T) {
	ok := func(user int, kind, path string) Observation {
		return Observation{Sample: drive.Sample{Kind: kind, Status: http.StatusOK}, User: user, Path: path}
	}
	obs := []Observation{
		ok(0, KindCustomer, "/customers/A"), ok(0, kindComparison, "/customers/A/comparison"),
		ok(0, KindCustomer, "/customers/B"), ok(0, kindHome, "/"),
		ok(0, KindCustomer, "/customers/C"), ok(0, kindComparison, "/customers/D/comparison"),
		ok(0, KindCustomer, "/customers/E"), // user 0's last request
		ok(1, KindCustomer, "/customers/F"), ok(1, kindComparison, "/customers/F/comparison"),
		{Sample: drive.Sample{Kind: KindCustomer, Status: http.StatusNotFound}, User: 1, Path: "/customers/G"}, ok(1, kindHome, "/"),
		ok(1, KindCustomer, "/customers/H"), // user 1's last request
		ok(probeUser, kindComparison, "/customers/P/comparison"),
	}
	bad := unfollowedPages(obs)
	if len(bad) != 2 || !strings.Contains(bad[0], "/customers/B") || !strings.Contains(bad[1], "/customers/C") {
		t.Errorf("unfollowedPages = %q, want B and C", bad)
	}
	if c := followCheck(obs); c.OK {
		t.Errorf("follow check passed: %s", c.Detail)
	}
	if c := followCheck(obs[:2]); !c.OK {
		t.Errorf("follow check failed a followed page: %s", c.Detail)
	}
}

// TestLoadtestRefusesBadFlags: every out-of-range or malformed flag is refused with an error
// that names it, before anything starts.
func TestLoadtestRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--users", "0"}, "--users"},
		{[]string{"--users", "100000"}, "--users"},
		{[]string{"--users", "many"}, "-users"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--duration", "2h"}, "--duration"},
		{[]string{"--duration", "soon"}, "-duration"},
		{[]string{"--max-requests", "-1"}, "--max-requests"},
		{[]string{"--d1-latency", "-5ms"}, "--d1-latency"},
		{[]string{"--d1-latency", "1m"}, "--d1-latency"},
		{[]string{"--customers", "5"}, "--customers"},
		{[]string{"--think", "-1s"}, "--think"},
		{[]string{"--think", "5m"}, "--think"},
		{[]string{"--customers", "1e9"}, "-customers"},
		{[]string{"--fault=maybe"}, "-fault"},
		{[]string{"--fault", "--max-requests", "100"}, "--max-requests"},
		{[]string{"--report", "/nonexistent-dir/LOADTEST.md"}, "--report"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--target", "http://example.com"}, "-target"},
	} {
		var stdout strings.Builder
		err := Command(context.Background(), tc.args, &stdout)
		if err == nil {
			t.Errorf("%v: accepted", tc.args)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) && !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%v: error %q does not name %s", tc.args, err, tc.want)
		}
	}
}

// TestReportMarkdown: the recorded report names its date, machine, flags and the machine's
// load, and holds the printed report verbatim in a code block.
func TestReportMarkdown(t *testing.T) {
	at := time.Date(2026, 11, 24, 14, 48, 0, 0, time.UTC)
	md := reportMarkdown(at, "commit abc1234, AMD EPYC, 2 cores", []string{"--users", "200", "--duration", "2m"}, [2]string{"0.52", "1.97"}, "\n5 requests in 1s (5 req/s)\n  PASS  no 5xx answer: 0 of 5 requests\n")
	want := "# ctpdesk load test\n\nMeasured by `make loadtest` (tools/loadtest) on 2026-11-24 14:48 UTC, commit abc1234, AMD EPYC, 2 cores.\n" +
		"Flags: `--users 200 --duration 2m`. Machine load average (1 min): 0.52 at the start, 1.97 at the end.\n\n```\n5 requests in 1s (5 req/s)\n  PASS  no 5xx answer: 0 of 5 requests\n```\n"
	if md != want {
		t.Errorf("reportMarkdown =\n%s\nwant\n%s", md, want)
	}
	if md := reportMarkdown(at, "m", nil, [2]string{"1", "1"}, "x\n"); !strings.Contains(md, "Flags: (defaults).") {
		t.Errorf("a run without flags: %s", md)
	}
}

// TestMatchAuditCountsEveryMismatch: a missing, a doubled and an unanswered event are each
// counted, and only a one-to-one pairing is exact.
func TestMatchAuditCountsEveryMismatch(t *testing.T) {
	exact := MatchAudit(audit.ActionComparison, []string{"a", "b"}, map[string]int{"a": 1, "b": 1})
	if !exact.Exact() || exact.Events != 2 {
		t.Errorf("one-to-one pairing: %+v", exact)
	}
	m := MatchAudit(audit.ActionComparison, []string{"a", "b", "c"}, map[string]int{"a": 1, "b": 2, "x": 1})
	want := AuditMatch{Action: audit.ActionComparison, Responses: 3, Events: 4, Missing: 1, Duplicated: 1, Unanswered: 1}
	if m != want {
		t.Errorf("MatchAudit = %+v, want %+v", m, want)
	}
	if m.Exact() {
		t.Error("a mismatched trail reported exact")
	}
}

// TestStatusChecksFailOnEveryKindOfError: a 5xx, a transport error and a 4xx each fail their
// check; a clean run passes them all.
func TestStatusChecksFailOnEveryKindOfError(t *testing.T) {
	clean := []Observation{{Sample: drive.Sample{Kind: kindHome, Status: http.StatusOK}}}
	for _, c := range statusChecks(clean) {
		if !c.OK {
			t.Errorf("clean run fails %q", c.Name)
		}
	}
	bad := append(clean,
		Observation{Sample: drive.Sample{Kind: kindComparison, Status: http.StatusServiceUnavailable}},
		Observation{Sample: drive.Sample{Kind: KindCustomer, Err: errors.New("connection reset")}},
		Observation{Sample: drive.Sample{Kind: "search:name", Status: http.StatusBadRequest}},
	)
	for _, c := range statusChecks(bad) {
		if c.OK {
			t.Errorf("check %q passed a run with a failure of its kind: %s", c.Name, c.Detail)
		}
	}
}

// TestReadColumns: a column that does not say what happened is counted as unexplained,
// whatever way it falls short; hostile markup never panics.
func TestReadColumns(t *testing.T) {
	for _, tc := range []struct {
		name        string
		html        string
		unexplained int
		unavailable int
		stale       int
	}{
		{"profile and not enrolled", `<table><tr><th data-directory="VISA" data-state="profile" data-stale="false"></th>` +
			`<th data-directory="MASTERCARD" data-state="not-enrolled" data-stale="false"></th></tr></table>`, 0, 0, 0},
		{"unavailable with class and id", `<th data-directory="VISA" data-state="unavailable" data-stale="false">` +
			`<span class="dir-detail">timeout</span><span class="dir-detail">D1 correlation id <code class="corr-id">abc</code></span></th>`, 0, 1, 0},
		{"unavailable without correlation id", `<th data-directory="VISA" data-state="unavailable"><span class="dir-detail">timeout</span></th>`, 1, 1, 0},
		{"unavailable without class", `<th data-directory="VISA" data-state="unavailable"><span class="dir-detail"> </span><code class="corr-id">abc</code></th>`, 1, 1, 0},
		{"stale with its age", `<th data-directory="VISA" data-state="profile" data-stale="true"><span data-testid="stale">Stale: 2 min</span></th>`, 0, 0, 1},
		{"stale without its age", `<th data-directory="VISA" data-state="profile" data-stale="true"></th>`, 1, 0, 1},
		{"unknown state", `<th data-directory="VISA" data-state="maybe"></th>`, 1, 0, 0},
		{"no column at all", `<p>Something went wrong</p>`, 1, 0, 0},
		{"garbage", "\x00<th data-state=\"<script>\"", 1, 0, 0},
	} {
		// The fragment's header cells sit in a table row, as in the comparison view; the HTML
		// parser drops a bare <th>.
		got := readColumns([]byte("<table><tr>" + tc.html + "</tr></table>"))
		if got.Unexplained != tc.unexplained || got.Unavailable != tc.unavailable || got.Stale != tc.stale {
			t.Errorf("%s: %+v, want %d unexplained, %d unavailable, %d stale", tc.name, got, tc.unexplained, tc.unavailable, tc.stale)
		}
		if got.Unexplained > 0 && got.Problem == "" {
			t.Errorf("%s: unexplained without naming the problem", tc.name)
		}
	}
}

// TestFaultChecksFailWithoutTheirEvidence: a breaker that never opened, or one that never
// closed again, a leak beyond the slack and an unexplained column each fail their check.
func TestFaultChecksFailWithoutTheirEvidence(t *testing.T) {
	served := drive.Summarise([]drive.Sample{{Kind: kindSearchPrefix + "name", Status: 200}, {Kind: KindCustomer, Status: 200}}, time.Second)
	phases := []phaseReport{{Name: "warm-up", Report: served}, {Name: "down", Report: served, Columns: 4, Unavailable: 2, Stale: 2}}
	base := resourceLevel{Goroutines: 20, Sockets: 5}
	find := func(cs []check, prefix string) check {
		for _, c := range cs {
			if strings.HasPrefix(c.Name, prefix) {
				return c
			}
		}
		t.Fatalf("no check %q", prefix)
		return check{}
	}
	cycle := func(src string, states ...string) []breakerChange {
		var out []breakerChange
		for _, s := range states {
			out = append(out, breakerChange{State: s, Source: src})
		}
		return out
	}
	good := faultChecks(phases, append(cycle("client", "closed", "open", "closed"), cycle("metrics", "closed", "open", "half-open", "closed")...), base, base, nil)
	for _, c := range good {
		if !c.OK {
			t.Errorf("good evidence fails %q: %s", c.Name, c.Detail)
		}
	}
	if c := find(faultChecks(phases, cycle("client", "closed"), base, base, nil), "D1 breaker"); c.OK {
		t.Error("a breaker that never opened passed")
	}
	if c := find(faultChecks(phases, cycle("client", "closed", "open"), base, base, nil), "D1 breaker"); c.OK {
		t.Error("a breaker that never closed again passed")
	}
	if c := find(faultChecks(phases, cycle("client", "closed", "open", "closed"), base, base, nil), "/metrics"); c.OK {
		t.Error("a breaker /metrics never saw open passed")
	}
	leaky := resourceLevel{Goroutines: base.Goroutines + goroutineSlack + 1, Sockets: base.Sockets}
	if c := find(faultChecks(phases, nil, base, leaky, nil), "goroutines"); c.OK {
		t.Error("a goroutine leak passed")
	}
	if c := find(faultChecks(phases, nil, base, base, errors.New("D1 requests still open")), "goroutines"); c.OK {
		t.Error("requests still open after the load passed")
	}
	phases[1].Unexplained = 1
	if c := find(faultChecks(phases, nil, base, base, nil), "every directory column"); c.OK {
		t.Error("an unexplained column passed")
	}
	phases[1].Unexplained, phases[1].Stale = 0, 0
	if c := find(faultChecks(phases, nil, base, base, nil), "the outage showed"); c.OK {
		t.Error("an outage without a stale column passed")
	}
	phases[1].Stale, phases[1].Unavailable = 2, 0
	if c := find(faultChecks(phases, nil, base, base, nil), "the outage showed"); c.OK {
		t.Error("an outage without an unavailable column passed")
	}
}

// TestFaultSequenceWaitsForItsEvents: a phase does not end before its length, its answered
// searches and customer pages and its event; one whose event never comes fails the sequence
// with a message naming it.
func TestFaultSequenceWaitsForItsEvents(t *testing.T) {
	run := NewRun("http://127.0.0.1:1", []User{{Cookie: "s=1"}}, 2000, false, 0)
	serve := func(phase int) {
		for range minServedPerPhase {
			run.countServed(Observation{Sample: drive.Sample{Kind: kindSearchPrefix + "name", Status: http.StatusOK}, Phase: phase})
			run.countServed(Observation{Sample: drive.Sample{Kind: KindCustomer, Status: http.StatusOK}, Phase: phase})
		}
	}
	var calls atomic.Int32
	applied := func(*loadHarness) error { return nil }
	phases := []faultPhase{
		{Name: "first", Length: 100 * time.Millisecond, Apply: applied},
		{Name: "second", Apply: applied, Until: func(context.Context) string {
			if calls.Add(1) < 3 {
				return "the thing"
			}
			return ""
		}},
	}
	serve(1)
	serve(2)
	start := time.Now()
	if err := runFaultSequence(context.Background(), nil, run, phases, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Errorf("the sequence ended after %s, before the first phase's length", el)
	}
	if calls.Load() < 3 {
		t.Errorf("the second phase ended after %d looks at its event, before it held", calls.Load())
	}

	never := []faultPhase{{Name: "outage", Apply: applied, Until: func(context.Context) string { return "the breaker to open" }}}
	err := runFaultSequence(context.Background(), nil, run, never, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `"outage"`) || !strings.Contains(err.Error(), "the breaker to open") {
		t.Errorf("an event that never came: %v", err)
	}
	idle := NewRun("http://127.0.0.1:1", []User{{Cookie: "s=1"}}, 2000, false, 0)
	err = runFaultSequence(context.Background(), nil, idle, phases[:1], 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "searches and") {
		t.Errorf("a phase that answered nothing: %v", err)
	}
}
