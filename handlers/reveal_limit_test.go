package handlers

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/d1test"
	"ctpdesk/static"
)

// newRevealClock is the trail's clock in the reveal limit tests: it moves only when told, and
// may be read by the trail's writer while the test moves it.
func newRevealClock() *d1test.Clock {
	return d1test.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
}

// limitedFixture is a trail fixture on the clock with the given reveal limits.
func limitedFixture(t *testing.T, setup replicaSetup, limits RevealLimits) *trailFixture {
	t.Helper()
	return newReplicaFixture(t, setup, func(d *Deps) { d.RevealLimits = limits })
}

func (f *trailFixture) reveal(header ...string) *httptest.ResponseRecorder {
	return f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("phone", "issuer", "customer_verified", ""), header...)
}

// TestRevealPerMinuteLimit: past the minute's limit the reveal answers 429 with Retry-After
// and says so in the control (htmx), on a page (plain form) and in JSON; nothing is revealed;
// the refusal is a failed reveal naming the limit; a minute later the agent reveals again.
func TestRevealPerMinuteLimit(t *testing.T) {
	clock := newRevealClock()
	f := limitedFixture(t, replicaSetup{Now: clock.Now}, RevealLimits{PerMinute: 3, PerDay: 100})
	cust := mustCustomer(t, f)
	for i := range 3 {
		if w := f.reveal(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), cust.Phone) {
			t.Fatalf("reveal %d: %d", i+1, w.Code)
		}
		clock.Advance(15 * time.Second)
	}
	// 09:00:45: three reveals since 09:00:00; the first leaves the minute in 15 s.
	want := "You have revealed 3 values a minute, the most allowed, so this value is not shown. Try again in 15 s. The attempt was recorded."
	w := f.reveal("HX-Request", "true")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "15" {
		t.Fatalf("htmx reveal over the limit: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	doc := mustDoc(t, w)
	if got := doc.Find(`[data-testid="reveal-error"]`).Text(); got != want {
		t.Errorf("control says %q, want %q", got, want)
	}
	if id, _ := doc.Find(`[data-testid="reveal-field"]`).Attr("id"); id == "" || doc.Find(`[data-testid="revealed-value"]`).Length() != 0 {
		t.Errorf("the answer is not the control again (id %q)", id)
	}
	plain := f.reveal()
	if plain.Code != http.StatusTooManyRequests || !strings.Contains(plain.Body.String(), revealLimitTitle) ||
		!strings.Contains(mustDoc(t, plain).Text(), want) {
		t.Errorf("plain form over the limit: %d\n%s", plain.Code, plain.Body)
	}
	js := f.reveal("Accept", "application/json")
	var body map[string]string
	if err := json.Unmarshal(js.Body.Bytes(), &body); js.Code != http.StatusTooManyRequests || err != nil || body["message"] != want {
		t.Errorf("JSON over the limit: %d %s", js.Code, js.Body)
	}
	for _, ans := range []string{w.Body.String(), plain.Body.String(), js.Body.String()} {
		if strings.Contains(ans, cust.Phone) {
			t.Fatal("a refused reveal shows the value")
		}
	}
	refused := f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Failure})
	if len(refused) != 3 {
		t.Fatalf("%d refusals recorded, want 3", len(refused))
	}
	for _, e := range refused {
		if got := audit.FormatDetails(e.Details); got != "failure=rate_limited field=phone limit=3/60s reason=customer_verified source=issuer sources=issuer" || e.CustomerID != cust.ID {
			t.Errorf("refusal recorded as %q for %q", got, e.CustomerID)
		}
	}
	clock.Advance(15 * time.Second)
	if w := f.reveal(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), cust.Phone) {
		t.Fatalf("a minute after the first reveal: %d", w.Code)
	}
}

// TestRevealPerDayLimit: an agent who keeps under the minute's limit still stops at the day's,
// told how long until the oldest reveal of the last 24 hours has left them.
func TestRevealPerDayLimit(t *testing.T) {
	clock := newRevealClock()
	f := limitedFixture(t, replicaSetup{Now: clock.Now}, RevealLimits{PerMinute: 2, PerDay: 4})
	for i := range 4 {
		if w := f.reveal(); w.Code != http.StatusOK {
			t.Fatalf("reveal %d: %d", i+1, w.Code)
		}
		clock.Advance(time.Hour)
	}
	// 13:00: four reveals since 09:00; the first leaves the 24 hours at 09:00 tomorrow.
	w := f.reveal("HX-Request", "true")
	want := "You have revealed 4 values in 24 hours, the most allowed, so this value is not shown. Try again in 20 h. The attempt was recorded."
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "72000" {
		t.Fatalf("over the day's limit: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if got := mustDoc(t, w).Find(`[data-testid="reveal-error"]`).Text(); got != want {
		t.Errorf("control says %q, want %q", got, want)
	}
	if e := lastReveal(t, f, 4); e.Details[audit.DetailLimit] != "4/86400s" {
		t.Errorf("refusal recorded as %q", audit.FormatDetails(e.Details))
	}
	clock.Advance(20 * time.Hour)
	if w := f.reveal(); w.Code != http.StatusOK {
		t.Fatalf("24 hours after the first reveal: %d", w.Code)
	}
}

// TestRevealLimitSharedByReplicas: two handler instances, each with its own trail, on one
// dashboard database are two replicas; concurrent reveals of one agent spread over both get
// exactly the limit through, and the rest are refused and recorded.
func TestRevealLimitSharedByReplicas(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	setup := replicaSetup{DBPath: filepath.Join(t.TempDir(), "shared.db"), Key: key}
	limits := RevealLimits{PerMinute: 3, PerDay: 100}
	replicas := []*trailFixture{limitedFixture(t, setup, limits), limitedFixture(t, setup, limits)}
	const requests = 12
	codes := make([]int, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = replicas[i%2].reveal().Code
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[http.StatusOK] != 3 || count[http.StatusTooManyRequests] != requests-3 {
		t.Fatalf("answers %v, want 3 × 200 and %d × 429", count, requests-3)
	}
	// Each replica sees the other's reveals: the trail is one, in the shared database.
	for i, r := range replicas {
		if n := len(r.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Success})); n != 3 {
			t.Errorf("replica %d sees %d reveals, want 3", i, n)
		}
		if w := r.reveal(); w.Code != http.StatusTooManyRequests {
			t.Errorf("replica %d after the burst: %d, want 429", i, w.Code)
		}
	}
}

func TestFormatWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Millisecond: "1 s", 1500 * time.Millisecond: "2 s", 119 * time.Second: "119 s", 2 * time.Minute: "2 min",
		150 * time.Second: "3 min", time.Hour: "1 h", time.Hour + time.Second: "1 h 1 min", 19*time.Hour + 59*time.Minute: "19 h 59 min",
	} {
		if got := formatWait(d); got != want {
			t.Errorf("formatWait(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestNewRefusesRevealLimitsThatCannotBeMeant(t *testing.T) {
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	u := unused{tb: t}
	deps := func(l RevealLimits) Deps {
		return Deps{Assets: assets, Customers: u, SignIn: u, Profiles: u, Auditor: u, AuditTrail: u, Metrics: u,
			RecentViews: noRecentViews{}, RevealLimits: l}
	}
	for _, l := range []RevealLimits{{}, {PerMinute: 0, PerDay: 5}, {PerMinute: -1, PerDay: 5}, {PerMinute: 5, PerDay: 4}} {
		if _, err := New(deps(l)); err == nil || !strings.Contains(err.Error(), "reveal limits") {
			t.Errorf("New with %+v: %v", l, err)
		}
	}
	// With limits that can be meant, the same dependencies are enough: the refusals above are
	// the limits', not a dependency missing.
	if _, err := New(deps(RevealLimits{PerMinute: 5, PerDay: 5})); err != nil {
		t.Errorf("New with 5 a minute and 5 a day: %v", err)
	}
}
