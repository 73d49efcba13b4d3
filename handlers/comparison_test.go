package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
	"ctpdesk/static"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

// fakeCustomers serves one customer.
type fakeCustomers struct{ cust issuerdb.Customer }

func (f fakeCustomers) Search(context.Context, issuerdb.Query) (issuerdb.Page, error) {
	return issuerdb.Page{}, nil
}

func (f fakeCustomers) Get(_ context.Context, id string) (issuerdb.Customer, error) {
	if id != f.cust.ID {
		return issuerdb.Customer{}, issuerdb.ErrNotFound
	}
	return f.cust, nil
}

// fakeProfiles is a ProfileFetcher made of a function, recording the options of each call.
type fakeProfiles struct {
	mu    sync.Mutex
	calls []d1.FetchOptions
	fn    func(consumerID string) (d1.Result, error)
}

func (f *fakeProfiles) GetProfiles(_ context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, opt)
	f.mu.Unlock()
	return f.fn(consumerID)
}

// fakeAuditor keeps events in memory, or fails when err is set.
type fakeAuditor struct {
	mu     sync.Mutex
	events []audit.Event
	err    error
}

func (f *fakeAuditor) Record(_ context.Context, e audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.events = append(f.events, e)
	return nil
}

// Begin records at once: the event is settled before the handler goes on.
func (f *fakeAuditor) Begin(ctx context.Context, e audit.Event) *audit.Receipt {
	return audit.Settled(f.Record(ctx, e))
}

// comparisonServer is the app's handler with fakes behind it; requests say who they are with the
// X-Test-Role header, which a test-only middleware turns into a signed-in user.
type comparisonServer struct {
	e        *echo.Echo
	profiles *fakeProfiles
	auditor  *fakeAuditor
}

func newComparisonServer(tb testing.TB, fn func(string) (d1.Result, error)) *comparisonServer {
	tb.Helper()
	return newComparisonServerFor(tb, viewCustomer(), func() time.Time { return viewNow }, fn)
}

// newComparisonServerFor is newComparisonServer for another customer and clock; extra
// adjusts the dependencies.
func newComparisonServerFor(tb testing.TB, cust issuerdb.Customer, now func() time.Time, fn func(string) (d1.Result, error), extra ...func(*Deps)) *comparisonServer {
	tb.Helper()
	assets, err := static.Load("/static")
	if err != nil {
		tb.Fatal(err)
	}
	s := &comparisonServer{profiles: &fakeProfiles{fn: fn}, auditor: &fakeAuditor{}}
	deps := Deps{Assets: assets, Customers: fakeCustomers{cust}, Profiles: s.profiles, Auditor: s.auditor, Now: now}
	for _, x := range extra {
		x(&deps)
	}
	h := mustNew(tb, deps)
	s.e = echo.New()
	s.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			role := c.Request().Header.Get("X-Test-Role")
			u := auth.User{Issuer: "https://idp.test", Subject: "sub-" + role, Name: role, Roles: []auth.Role{auth.Role(role)}}
			ctx := auth.WithCSRFToken(auth.WithUser(c.Request().Context(), u), "csrf-"+role)
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	h.register(s.e, nil)
	return s
}

func (s *comparisonServer) do(method, target, role string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set("X-Test-Role", role)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return rec
}

func okProfiles(string) (d1.Result, error) { return viewResult(), nil }

// verdicts lists the data-verdict of every directory cell of a fragment.
func verdicts(tb testing.TB, body string) map[string]string {
	tb.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	doc.Find("td[data-verdict]").Each(func(_ int, s *goquery.Selection) {
		out[s.AttrOr("data-field", "")+"@"+s.AttrOr("data-directory", "")] = s.AttrOr("data-verdict", "")
	})
	return out
}

func TestComparisonFragmentForAgent(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	rec := s.do(http.MethodGet, "/customers/C42/comparison", "agent", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<html") {
		t.Error("htmx request got a full page")
	}
	if rec.Header().Get("Cache-Control") != "no-store" || !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "HX-Request") {
		t.Errorf("headers %v lack no-store or Vary", rec.Header())
	}
	for _, secret := range []string{"zoe.martin@example.com", "z.m@example.org", "612345678"} {
		if strings.Contains(body, secret) {
			t.Errorf("agent fragment holds %q", secret)
		}
	}
	v := verdicts(t, body)
	if v["email@VISA"] != "differs" || v["card:crd_42:status@VISA"] != "differs" || v["firstName@VISA"] != "equivalent" {
		t.Errorf("verdicts = %v", v)
	}
	if _, ok := v["middleName@VISA"]; ok {
		t.Error("a matching row is shown with differences only")
	}
	want := []audit.Event{{
		Actor:  audit.Actor{Issuer: "https://idp.test", Subject: "sub-agent", Name: "agent", Roles: []string{"agent"}},
		Action: audit.ActionComparison, Outcome: audit.Success, CustomerID: "C42",
		Details: map[string]string{"directories_answered": "VISA,MASTERCARD", "directory_states": "VISA=profile,MASTERCARD=not-enrolled",
			"d1_answered": "true", "d1_correlation_id": "corr-7"},
		ClientIP: "192.0.2.1", UserAgent: "", RequestID: s.auditor.events[0].RequestID,
	}}
	if diff := cmp.Diff(want, s.auditor.events); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
	if s.auditor.events[0].RequestID == "" {
		t.Error("audit event without request id")
	}
	if s.profiles.calls[0].Fresh {
		t.Error("a plain view skipped the cache")
	}
}

func TestComparisonFragmentForFraudIsUnmasked(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	body := s.do(http.MethodGet, "/customers/C42/comparison", "fraud", "HX-Request", "true").Body.String()
	if !strings.Contains(body, "zoe.martin@example.com") || !strings.Contains(body, "z.m@example.org") {
		t.Error("fraud analyst does not see contact data whole")
	}
}

func TestComparisonJSONTwin(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	for _, tc := range []struct {
		role    string
		visible bool
	}{{"agent", false}, {"fraud", true}} {
		rec := s.do(http.MethodGet, "/customers/C42/comparison", tc.role, "Accept", "application/json")
		var got reconcile.Comparison
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d, %v", tc.role, rec.Code, err)
		}
		if got.CustomerID != "C42" || len(got.Columns) != 2 || got.Summary.Risks != 1 {
			t.Errorf("%s: JSON comparison = %+v", tc.role, got.Summary)
		}
		// Not-applicable is a cell state in the JSON too, never a verdict.
		for _, r := range got.Rows {
			if c := r.Cells[1]; c.Verdict != "" || c.State != reconcile.NotApplicable {
				t.Errorf("%s: %s@MASTERCARD (not enrolled) = %q/%q, want the not-applicable state only", tc.role, r.Field, c.Verdict, c.State)
			}
		}
		var words struct {
			Findings []struct{ Kind, Message, NextStep string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &words); err != nil || len(words.Findings) == 0 {
			t.Fatalf("%s: findings: %v", tc.role, err)
		}
		if f := words.Findings[0]; f.Kind != reconcile.KindCardBlockedButEnrolled || !strings.Contains(f.Message, "reported stolen") || f.NextStep == "" {
			t.Errorf("%s: first finding = %+v, want the risk worded with its next step", tc.role, f)
		}
		if strings.Contains(rec.Body.String(), "zoe.martin@example.com") != tc.visible {
			t.Errorf("%s: email visible = %v, want %v", tc.role, !tc.visible, tc.visible)
		}
	}
}

func TestComparisonWhenD1Fails(t *testing.T) {
	failure := &d1.Error{Kind: d1.ErrUnavailable, Op: "profiles", CorrelationID: "corr-down"}
	s := newComparisonServer(t, func(string) (d1.Result, error) { return d1.Result{}, failure })
	rec := s.do(http.MethodGet, "/customers/C42/comparison?show=all", "agent", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: the issuer half still works", rec.Code)
	}
	if v := verdicts(t, rec.Body.String()); len(v) != 0 {
		t.Errorf("verdicts %v, want none: nothing was compared", v)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if n := doc.Find(`td[data-collapsed="unavailable"]`).Length(); n != 2 {
		t.Errorf("%d collapsed cells, want one per unavailable directory", n)
	}
	if !strings.Contains(rec.Body.String(), "corr-down") || !strings.Contains(rec.Body.String(), "Martin") {
		t.Error("the page lacks the correlation id or the issuer values")
	}
	if strings.Contains(rec.Body.String(), "0 risks") {
		t.Error("a D1 outage reads 0 risks")
	}
	if got := s.auditor.events[0].Details["d1_answered"]; got != "false" {
		t.Errorf("audit d1_answered = %q", got)
	}
}

// TestComparisonTimeoutNamesWhenItGaveUp checks that an outage is stamped with the time the
// comparison stopped waiting for D1, not the time it started asking.
func TestComparisonTimeoutNamesWhenItGaveUp(t *testing.T) {
	var mu sync.Mutex
	now := viewNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newComparisonServerFor(t, viewCustomer(), clock, func(string) (d1.Result, error) {
		mu.Lock()
		now = now.Add(8 * time.Second) // D1 hung for the whole budget
		mu.Unlock()
		return d1.Result{}, d1.NewError(d1.ClassTimeout, 0, "corr-hang")
	})
	doc, _ := goquery.NewDocumentFromReader(s.do(http.MethodGet, "/customers/C42/comparison", "agent", "HX-Request", "true").Body)
	out := doc.Find(`[data-testid="comparison-outcome"]`).Text()
	head := doc.Find(`thead th[data-directory="VISA"]`).Text()
	for _, text := range []string{out, head} {
		if !strings.Contains(text, "14:00:08 UTC") || strings.Contains(text, "14:00:00") {
			t.Errorf("%q does not say it gave up at 14:00:08 UTC", strings.Join(strings.Fields(text), " "))
		}
	}
	if !strings.Contains(out, "corr-hang") || !strings.Contains(out, "did not answer in time") {
		t.Errorf("outcome %q lacks the class or the correlation id", out)
	}
}

func TestComparisonConsumerUnknownToD1(t *testing.T) {
	s := newComparisonServer(t, func(string) (d1.Result, error) {
		return d1.Result{}, fmt.Errorf("wrapped: %w", &d1.Error{Kind: d1.ErrNotFound, CorrelationID: "corr-404"})
	})
	doc, _ := goquery.NewDocumentFromReader(s.do(http.MethodGet, "/customers/C42/comparison", "agent", "HX-Request", "true").Body)
	var states []string
	doc.Find("thead th[data-state]").Each(func(_ int, th *goquery.Selection) { states = append(states, th.AttrOr("data-state", "")) })
	if diff := cmp.Diff([]string{"not-registered", "not-registered"}, states); diff != "" {
		t.Errorf("column states (-want +got):\n%s", diff)
	}
	out := doc.Find(`[data-testid="comparison-outcome"]`)
	if out.AttrOr("data-outcome", "") != "not-registered" || out.Find(`[data-testid="outcome-correlation-id"]`).Text() != "corr-404" {
		t.Errorf("outcome = %q, want not registered at D1 with the correlation id", out.Text())
	}
	if got := s.auditor.events[0].Details["directory_states"]; got != "VISA=not-registered,MASTERCARD=not-registered" {
		t.Errorf("audit directory states = %q", got)
	}
}

func TestComparisonWithheldWhenAuditFails(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	s.auditor.err = fmt.Errorf("audit: record: %w: disk full", audit.ErrUnavailable)
	for _, accept := range []string{"text/html", "application/json"} {
		rec := s.do(http.MethodGet, "/customers/C42/comparison", "fraud", "HX-Request", "true", "Accept", accept)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", accept, rec.Code)
		}
		for _, secret := range []string{"Martin", "zoe.martin", "4242", "data-verdict"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("%s: 503 body holds %q", accept, secret)
			}
		}
	}
}

func TestComparisonBadInput(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	tests := []struct {
		target string
		status int
	}{
		{"/customers/NOPE/comparison", http.StatusNotFound},
		{"/customers/C42/comparison?show=everything", http.StatusBadRequest},
		{"/customers/C42/comparison?show=%3Cscript%3E", http.StatusBadRequest},
		{"/customers/" + strings.Repeat("9", 300) + "/comparison", http.StatusNotFound},
		{"/customers/%27%20OR%201%3D1/comparison", http.StatusNotFound},
	}
	for _, tc := range tests {
		rec := s.do(http.MethodGet, tc.target, "agent", "HX-Request", "true")
		if rec.Code != tc.status || strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("%s: status %d, want %d", tc.target, rec.Code, tc.status)
		}
	}
	if len(s.profiles.calls) != 0 {
		t.Errorf("D1 asked %d times for refused requests", len(s.profiles.calls))
	}
}

func TestComparisonShowAllKeptInURL(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	tests := []struct {
		name    string
		target  string
		headers []string
		want    string
	}{
		{"default", "/customers/C42/comparison", nil, "true"},
		{"query", "/customers/C42/comparison?show=all", nil, "false"},
		{"diff", "/customers/C42/comparison?show=diff", nil, "true"},
		// Switching back from "all" happens on a page whose address still says show=all: the
		// request's own choice wins.
		{"switch back on a show-all page", "/customers/C42/comparison?show=diff", []string{"HX-Current-URL", "http://example.test/customers/C42?show=all"}, "true"},
		{"page address alone", "/customers/C42/comparison", []string{"HX-Current-URL", "http://example.test/customers/C42?show=all"}, "true"},
	}
	for _, tc := range tests {
		doc, _ := goquery.NewDocumentFromReader(s.do(http.MethodGet, tc.target, "agent", append([]string{"HX-Request", "true"}, tc.headers...)...).Body)
		if got := doc.Find("[data-testid=comparison-body]").AttrOr("data-diff-only", ""); got != tc.want {
			t.Errorf("%s: data-diff-only = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestComparisonRefreshIsFreshAndLimited(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	for i := range refreshLimit {
		rec := s.do(http.MethodPost, "/customers/C42/comparison/refresh", "agent", "HX-Request", "true")
		if rec.Code != http.StatusOK || !s.profiles.calls[i].Fresh {
			t.Fatalf("refresh %d: status %d, fresh %v", i+1, rec.Code, s.profiles.calls[i].Fresh)
		}
	}
	rec := s.do(http.MethodPost, "/customers/C42/comparison/refresh", "agent", "HX-Request", "true")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "60" {
		t.Errorf("over the limit: status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if s.profiles.calls[refreshLimit].Fresh {
		t.Error("a refused refresh still bypassed the cache")
	}
	if !strings.Contains(rec.Body.String(), "Refresh limit reached") {
		t.Error("the refused refresh does not say why")
	}
	// Another user has a budget of their own.
	if rec := s.do(http.MethodPost, "/customers/C42/comparison/refresh", "fraud", "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Errorf("another user's refresh: status %d", rec.Code)
	}
	var actions []audit.Action
	for _, e := range s.auditor.events {
		actions = append(actions, e.Action)
	}
	want := []audit.Action{audit.ActionRefresh, audit.ActionRefresh, audit.ActionRefresh, audit.ActionComparison, audit.ActionRefresh}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

func TestRefreshLimiterWindow(t *testing.T) {
	l := newRefreshLimiter(2, time.Minute)
	t0 := viewNow
	steps := []struct {
		at   time.Duration
		ok   bool
		wait time.Duration
	}{
		{0, true, 0}, {10 * time.Second, true, 0}, {20 * time.Second, false, 40 * time.Second},
		{61 * time.Second, true, 0}, {62 * time.Second, false, 8 * time.Second},
	}
	for _, st := range steps {
		ok, wait := l.allow("u", t0.Add(st.at))
		if ok != st.ok || wait != st.wait {
			t.Errorf("at %v: allow = %v, %v; want %v, %v", st.at, ok, wait, st.ok, st.wait)
		}
	}
}

func TestComparisonHostileDirectoryData(t *testing.T) {
	hostile := viewResult()
	p := &hostile.Profiles[0]
	p.Consumer.FirstName = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	p.Consumer.LastName = "\u202Enitram" + strings.Repeat("W", 10000)
	p.Consumer.MiddleName = "👩🏽‍💻\x00\x1b[31m"
	p.Directory = `VISA"><svg onload=alert(1)>`
	s := newComparisonServer(t, func(string) (d1.Result, error) { return hostile, nil })
	rec := s.do(http.MethodGet, "/customers/C42/comparison", "fraud", "HX-Request", "true")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Find("script, img, svg").Length(); n != 0 {
		t.Errorf("%d live elements from directory data", n)
	}
	if strings.Contains(body, "\u202E") || strings.Contains(body, "\x00") || strings.Contains(body, "\x1b") {
		t.Error("control or direction characters reached the page")
	}
	last := doc.Find(`td[data-field=lastName] .val-trunc`)
	if last.Length() == 0 || len([]rune(last.Find(".val-short").Text())) > shortRunes+1 {
		t.Errorf("10,000-character value not cut: %d runes", len([]rune(last.Find(".val-short").Text())))
	}
}

func TestComparisonAuditDetailsStayIdentifiers(t *testing.T) {
	hostile := viewResult()
	hostile.Profiles[0].Directory = "VISA <b>" + strings.Repeat("é", 600)
	hostile.CorrelationID = "corr 7\n<script>"
	s := newComparisonServer(t, func(string) (d1.Result, error) { return hostile, nil })
	if rec := s.do(http.MethodGet, "/customers/C42/comparison", "agent", "HX-Request", "true"); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for k, v := range s.auditor.events[0].Details {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' }) {
			if part != auditToken(part) || len(part) > 64 {
				t.Errorf("audit detail %s holds %q", k, part)
			}
		}
	}
}
