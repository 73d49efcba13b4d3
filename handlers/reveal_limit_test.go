package handlers

import (
	"context"
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
	"ctpdesk/d1"
	"ctpdesk/internal/d1test"
	"ctpdesk/static"

	"github.com/google/go-cmp/cmp"
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
	want := "You have made 3 reveals a minute, the most allowed, so this value is not shown. Try again in 15 s. The attempt was recorded."
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

// TestRevealEverywhereCountsOnceAgainstTheLimit: one reveal that fills in the field at every
// place of the page counts once against the limit, and the one over the limit shows nothing
// anywhere: no value in the control used, no out-of-band swap of the others. Its refusal names
// the sources it would have shown; a refusal that looked nothing up names none.
func TestRevealEverywhereCountsOnceAgainstTheLimit(t *testing.T) {
	const visaEmail = "v.one@example.test"
	profiles := revealProfiles(func(context.Context, string, d1.FetchOptions) (d1.Result, error) {
		return d1.Result{Profiles: []d1.Profile{{Directory: "VISA", Consumer: d1.Consumer{Emails: []string{visaEmail}}}}}, nil
	})
	clock := newRevealClock()
	f := newReplicaFixture(t, replicaSetup{Now: clock.Now}, func(d *Deps) {
		d.Profiles = profiles
		d.RevealLimits = RevealLimits{PerMinute: 2, PerDay: 100}
	})
	cust := mustCustomer(t, f)
	everywhere := func() *httptest.ResponseRecorder {
		form := revealForm("email", "issuer", "customer_verified", "")
		form.Set("place", "record")
		form["peer"] = []string{"record:issuer", "comparison:issuer", "comparison:VISA"}
		return f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form, "HX-Request", "true")
	}
	for i := range 2 {
		w := everywhere()
		if n := mustDoc(t, w).Find(`[data-testid="revealed"]`).Length(); w.Code != http.StatusOK || n != 3 {
			t.Fatalf("reveal %d: %d, %d places filled in, want 200 and 3", i+1, w.Code, n)
		}
	}
	w := everywhere()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third reveal: %d, want 429", w.Code)
	}
	doc := mustDoc(t, w)
	if doc.Find(`[data-testid="revealed"]`).Length() != 0 || doc.Find(`[hx-swap-oob]`).Length() != 0 ||
		strings.Contains(w.Body.String(), cust.Email) || strings.Contains(w.Body.String(), visaEmail) {
		t.Fatalf("a refused reveal shows a value or swaps another place:\n%s", w.Body)
	}
	if id, _ := doc.Find(`[data-testid="reveal-field"]`).Attr("id"); id != "reveal-record-issuer-email" {
		t.Errorf("the answer is the control %q, want the one used", id)
	}
	got := []string{}
	for _, e := range f.events(t, audit.Filter{Action: audit.ActionReveal}) {
		got = append(got, string(e.Outcome)+" "+audit.FormatDetails(e.Details))
	}
	want := []string{
		"failure failure=rate_limited field=email limit=2/60s reason=customer_verified source=issuer sources=issuer,VISA",
		"success field=email reason=customer_verified source=issuer sources=issuer,VISA",
		"success field=email reason=customer_verified source=issuer sources=issuer,VISA",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reveal events (-want +got):\n%s", diff)
	}
	// A directory without a profile, asked for with the page's other places, fails as a
	// no_profile reveal that names no sources, and shows nothing anywhere.
	clock.Advance(time.Minute)
	form := revealForm("email", "MASTERCARD", "customer_verified", "")
	form.Set("place", "comparison")
	form["peer"] = []string{"comparison:MASTERCARD", "record:issuer", "comparison:VISA"}
	w = f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form, "HX-Request", "true")
	if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), cust.Email) || strings.Contains(w.Body.String(), visaEmail) {
		t.Fatalf("a directory without a profile: %d\n%s", w.Code, w.Body)
	}
	if e := lastReveal(t, f, 3); e.Outcome != audit.Failure ||
		audit.FormatDetails(e.Details) != "failure=no_profile field=email reason=customer_verified source=MASTERCARD" {
		t.Errorf("recorded %s %q", e.Outcome, audit.FormatDetails(e.Details))
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
	want := "You have made 4 reveals in 24 hours, the most allowed, so this value is not shown. Try again in 20 h. The attempt was recorded."
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
			RecentViews: noRecentViews{}, RevealLimits: l, Scans: unscanned{u}}
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
