package loadtest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/loadtest/drive"
)

// TestLoadShort is the load test in short form: 20 signed-in users for 10 seconds against the
// whole dev dashboard in this process. Every answer must be 2xx and the audit trail must hold
// exactly one event per search, customer page and comparison the users received, and verify.
// The p99 budgets are held by `make loadtest` only: under the race detector on a shared
// two-core machine these latencies measure the detector, and speed is never asserted by a
// unit test here.
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := runLoad(ctx, loadOptions{
		Users: 20, Duration: 10 * time.Second, MaxRequests: 200_000, Customers: 2000,
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
	// The mix is per action: 60 % searches, 30 % customer pages (each followed by its
	// comparison), 10 % other pages.
	var searches, customers, comparisons, others int
	for _, o := range res.Obs {
		switch {
		case strings.HasPrefix(o.Kind, kindSearchPrefix):
			searches++
		case o.Kind == KindCustomer:
			customers++
		case o.Kind == kindComparison:
			comparisons++
		default:
			others++
		}
	}
	for _, kind := range []string{"name", "email", "phone", "last4", "customer-id", "consumer-id"} {
		if _, ok := res.Report.Kind(kindSearchPrefix + kind); !ok {
			t.Errorf("no search by %s was made", kind)
		}
	}
	actions := float64(searches + customers + others)
	// Even under the race detector on a busy machine, 20 users make thousands of requests in
	// 10 s; a few hundred are the least the proportions below can be judged on.
	if actions < 300 {
		t.Fatalf("only %.0f user actions in 10 s", actions)
	}
	for name, got := range map[string]float64{"searches": float64(searches) / actions, "customer pages": float64(customers) / actions, "other pages": float64(others) / actions} {
		want := map[string]float64{"searches": 0.6, "customer pages": 0.3, "other pages": 0.1}[name]
		if got < want-0.05 || got > want+0.05 {
			t.Errorf("%s are %.0f%% of actions, want about %.0f%%", name, 100*got, 100*want)
		}
	}
	if comparisons < customers-20 || comparisons > customers {
		t.Errorf("%d comparisons after %d customer pages: each page must be followed by its comparison", comparisons, customers)
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
	phases := []phaseReport{{Name: "warm-up", Report: served}, {Name: "down", Report: served, Columns: 2, Unavailable: 2}}
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
	phases[1].Unexplained, phases[1].Unavailable = 0, 0
	if c := find(faultChecks(phases, nil, base, base, nil), "every directory column"); c.OK {
		t.Error("an outage that no column showed passed")
	}
}
