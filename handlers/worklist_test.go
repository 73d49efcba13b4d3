package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/scan"
	"ctpdesk/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

// fakeScans is the portfolio scan made of function fields; a nil field fails the test.
type fakeScans struct {
	tb       testing.TB
	start    func(scan.StartRequest) (scan.Run, error)
	runs     func() ([]scan.Progress, error)
	worklist func(scan.WorklistQuery) (scan.WorklistPage, error)
	decide   func(scan.Decision) (scan.Item, error)
	customer func(string, scan.Viewer) (scan.CustomerStatus, error)
}

func (f *fakeScans) missing(what string) error {
	f.tb.Helper()
	f.tb.Errorf("unexpected call to Scans.%s", what)
	return errors.New("not faked")
}

func (f *fakeScans) StartScan(_ context.Context, r scan.StartRequest) (scan.Run, error) {
	if f.start == nil {
		return scan.Run{}, f.missing("StartScan")
	}
	return f.start(r)
}

func (f *fakeScans) Cancel(context.Context, int64, string) (scan.Run, error) {
	return scan.Run{}, f.missing("Cancel")
}

func (f *fakeScans) Resume(context.Context, int64) (scan.Run, error) {
	return scan.Run{}, f.missing("Resume")
}

func (f *fakeScans) Runs(context.Context, int) ([]scan.Progress, error) {
	if f.runs == nil {
		return nil, f.missing("Runs")
	}
	return f.runs()
}

func (f *fakeScans) Worklist(_ context.Context, q scan.WorklistQuery) (scan.WorklistPage, error) {
	if f.worklist == nil {
		return scan.WorklistPage{}, f.missing("Worklist")
	}
	return f.worklist(q)
}

func (f *fakeScans) Decide(_ context.Context, d scan.Decision) (scan.Item, error) {
	if f.decide == nil {
		return scan.Item{}, f.missing("Decide")
	}
	return f.decide(d)
}

func (f *fakeScans) Customer(_ context.Context, id string, v scan.Viewer) (scan.CustomerStatus, error) {
	if f.customer == nil {
		return scan.CustomerStatus{}, f.missing("Customer")
	}
	return f.customer(id, v)
}

// newScanServer serves the routes with the fake scan and a user whose role comes from the
// X-Test-Role header.
func newScanServer(tb testing.TB, s *fakeScans, auditor Auditor) *echo.Echo {
	tb.Helper()
	h := mustNew(tb, Deps{Logger: slog.New(slog.DiscardHandler), Version: "test", Auditor: auditor, Scans: s,
		Now: func() time.Time { return time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) }})
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			role := cmpOr(c.Request().Header.Get("X-Test-Role"), "fraud")
			u := auth.User{Issuer: "https://idp.test", Subject: "sub-" + role, Name: "Name " + role, Roles: []auth.Role{auth.Role(role)}}
			c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
			return next(c)
		}
	})
	h.register(e, nil)
	return e
}

var scannedAt = time.Date(2026, 11, 29, 2, 10, 0, 0, time.UTC)

func testItems() []scan.Item {
	return []scan.Item{
		{CustomerID: "CU00000007", State: scan.ItemOpen, Severity: scan.SeverityRisk, Kinds: []string{"card-unknown-to-issuer"},
			Directories: []string{"VISA"}, Findings: 1, LastScanID: 3, LastScannedAt: scannedAt, Changed: true},
		{CustomerID: "=HYPERLINK(\"x\")", State: scan.ItemResolved, Reason: "updated-at-issuer", Severity: scan.SeverityWarn,
			Kinds: []string{"field-differs"}, Directories: []string{"MASTERCARD"}, DecidedByName: "@Ada", DecidedAt: scannedAt, LastScannedAt: scannedAt},
	}
}

// The worklist's filters reach the scan as a typed query, the viewer follows the role (agents
// get the data-quality view), the view is recorded with its filter and count before anything
// is sent, and the page lists the rows with their decision forms.
func TestWorklistPassesFiltersAndRecordsTheView(t *testing.T) {
	var got []scan.WorklistQuery
	fake := &fakeScans{tb: t, worklist: func(q scan.WorklistQuery) (scan.WorklistPage, error) {
		got = append(got, q)
		return scan.WorklistPage{Items: testItems(), Total: 42, Next: "CURSOR"}, nil
	}}
	auditor := &searchAuditor{}
	e := newScanServer(t, fake, auditor)
	rec := get(e, "/worklist?kind=field-differs&directory=visa&state=open&changed=1&assignee=me")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := scan.WorklistQuery{Viewer: scan.ViewerFraud, Kind: "field-differs", Directory: "VISA", State: "open", Changed: true,
		Assignee: "sub-fraud", Limit: worklistPageSize}
	if diff := cmp.Diff([]scan.WorklistQuery{want}, got); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if len(auditor.events) != 1 || auditor.events[0].Action != audit.ActionWorklistView || auditor.events[0].Details["total"] != "42" ||
		auditor.events[0].Details["filters"] != "kind,directory,state,assignee,changed" {
		t.Errorf("audit events: %+v", auditor.events)
	}
	doc, err := goquery.NewDocumentFromReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Find(`[data-testid="worklist-row"]`).Length(); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if txt := doc.Find(`[data-testid="worklist-total"]`).Text(); !strings.Contains(txt, "42") {
		t.Errorf("count %q", txt)
	}
	if href, _ := doc.Find(`[data-testid="worklist-next"]`).Attr("href"); !strings.Contains(href, "after=CURSOR") || !strings.Contains(href, "kind=field-differs") {
		t.Errorf("next page link %q keeps neither the cursor nor the filter", href)
	}
	if doc.Find(`[data-testid="decision-form"] input[name="_csrf"]`).Length() != 2 {
		t.Error("the decision forms carry no CSRF field")
	}

	got = nil
	rec = get(e, "/worklist", "X-Test-Role", "agent")
	if rec.Code != http.StatusOK || len(got) != 1 || got[0].Viewer != scan.ViewerAgent {
		t.Errorf("agent: status %d, queries %+v; want the agent viewer", rec.Code, got)
	}
	if strings.Contains(rec.Body.String(), `name="severity"`) {
		t.Error("agents get a severity filter: risks are not theirs")
	}
}

func TestWorklistRefusesHostileFilters(t *testing.T) {
	fake := &fakeScans{tb: t, worklist: func(q scan.WorklistQuery) (scan.WorklistPage, error) {
		if q.After == "bad" {
			return scan.WorklistPage{}, scan.ErrInvalid
		}
		return scan.WorklistPage{}, nil
	}}
	auditor := &searchAuditor{}
	e := newScanServer(t, fake, auditor)
	for _, target := range []string{
		"/worklist?kind=%27%3B+DROP+TABLE", "/worklist?severity=high", "/worklist?state=closed",
		"/worklist?directory=%25", "/worklist?assignee=someone-else", "/worklist?after=bad",
		"/worklist/export?kind=nope",
	} {
		rec := get(e, target)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, rec.Code)
		}
	}
	rec := get(e, "/worklist?kind=card-unknown-to-issuer", "X-Test-Role", "agent")
	if rec.Code != http.StatusBadRequest {
		t.Errorf("agent filtering on a risk kind: status %d, want 400", rec.Code)
	}
	if len(auditor.events) != 0 {
		t.Errorf("refused filters were recorded as views: %+v", auditor.events)
	}
}

// The export is recorded before the first byte and defuses cells a spreadsheet would run.
func TestWorklistExportIsFormulaSafe(t *testing.T) {
	pages := 0
	fake := &fakeScans{tb: t, worklist: func(q scan.WorklistQuery) (scan.WorklistPage, error) {
		pages++
		if q.After == "" {
			return scan.WorklistPage{Items: testItems()[:1], Total: 2, Next: "P2"}, nil
		}
		return scan.WorklistPage{Items: testItems()[1:], Total: 2}, nil
	}}
	auditor := &searchAuditor{}
	rec := get(newScanServer(t, fake, auditor), "/worklist/export?severity=warn")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || pages != 2 {
		t.Fatalf("%d rows over %d pages, want a header and 2 rows over 2", len(rows), pages)
	}
	if rows[2][0] != `'=HYPERLINK("x")` || rows[2][6] != "'@Ada" {
		t.Errorf("formula cells not defused: %q", rows[2])
	}
	if len(auditor.events) != 1 || auditor.events[0].Action != audit.ActionWorklistExport || auditor.events[0].Details["total"] != "2" {
		t.Errorf("audit events: %+v", auditor.events)
	}
}

// A decision is recorded with its state and reason code, applied as the signed-in person, and
// sends the browser back only to the worklist or the customer's page.
func TestDecisionIsRecordedAppliedAndReturnsSafely(t *testing.T) {
	var got []scan.Decision
	fake := &fakeScans{tb: t, decide: func(d scan.Decision) (scan.Item, error) {
		got = append(got, d)
		if d.CustomerID == "CU_RISK" {
			return scan.Item{}, scan.ErrNotFound
		}
		return scan.Item{CustomerID: d.CustomerID, State: d.State, Reason: d.Reason}, nil
	}}
	auditor := &searchAuditor{}
	e := newScanServer(t, fake, auditor)
	post := func(id, decision, ret string, role string) *httptest.ResponseRecorder {
		form := url.Values{"decision": {decision}, "return": {ret}}
		req := httptest.NewRequest(http.MethodPost, "/worklist/"+id+"/decision", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Role", role)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	for ret, want := range map[string]string{
		"/worklist?state=open":    "/worklist?state=open",
		"/customers/CU00000007":   "/customers/CU00000007",
		"https://evil.example/":   "/worklist",
		"//evil.example/worklist": "/worklist",
		"/customers/CU00000008":   "/worklist",
		"/\\evil.example":         "/worklist",
	} {
		rec := post("CU00000007", "no-action:expected-difference", ret, "agent")
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Errorf("return %q: %d to %q, want 303 to %q", ret, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	if got[0] != (scan.Decision{CustomerID: "CU00000007", State: "no-action", Reason: "expected-difference", By: "sub-agent", ByName: "Name agent", Viewer: scan.ViewerAgent}) {
		t.Errorf("decision %+v", got[0])
	}
	if e := auditor.events[0]; e.Action != audit.ActionWorklistDecision || e.CustomerID != "CU00000007" || e.Details["state"] != "no-action" || e.Details["reason"] != "expected-difference" {
		t.Errorf("audit event %+v", e)
	}
	n := len(got)
	for _, bad := range []string{"", "resolved", "resolved:because", "closed:updated-at-issuer", "resolved:updated-at-issuer:x"} {
		if rec := post("CU00000007", bad, "", "fraud"); rec.Code != http.StatusBadRequest {
			t.Errorf("decision %q: status %d, want 400", bad, rec.Code)
		}
	}
	if len(got) != n {
		t.Error("a refused decision reached the scan")
	}
	auditor.events = nil
	if rec := post("CU_RISK", "resolved:card-removed", "", "agent"); rec.Code != http.StatusNotFound {
		t.Errorf("agent deciding on a risk: status %d, want 404", rec.Code)
	}
	if len(auditor.events) != 2 || auditor.events[1].Outcome != audit.Failure {
		t.Errorf("a decision not applied is not recorded as failed: %+v", auditor.events)
	}
}

func TestScansPageView(t *testing.T) {
	started := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	run := scan.Progress{
		Run:  scan.Run{ID: 4, Trigger: scan.TriggerSchedule, StartedBy: "system", StartedByName: "Schedule", State: scan.StateRunning, CreatedAt: started, Planned: true, Customers: 1000},
		Done: 250, Total: 1000, D1Calls: 250, CallsPerSecond: 4.96, EstimatedEnd: started.Add(time.Hour),
		Errors: map[string]int{"timeout": 3},
	}
	old := scan.Progress{Run: scan.Run{ID: 3, Trigger: scan.TriggerAnalyst, StartedByName: "Fran", State: scan.StateCancelled, CreatedAt: started.Add(-24 * time.Hour), CancelledAt: started.Add(-23 * time.Hour)},
		Done: 10, Total: 900, WithRisks: 2, Kinds: map[string]int{"card-unknown-to-issuer": 2}}
	got := scansPageView([]scan.Progress{run, old}, started)
	want := views.ScansPage{Polling: true, Runs: []views.ScanRun{
		{ID: 4, State: "running", StateText: "Running", Trigger: "schedule", StartedBy: "Schedule", StartedAt: "2026-11-30 02:00 UTC",
			Meta: "started 2026-11-30 02:00 UTC by Schedule (schedule)", Done: 250, Total: 1000, Percent: 25, CallsPerSecond: "5.0",
			EstimatedEnd: "2026-11-30 03:00 UTC", Errors: []views.Count{{Key: "timeout", Label: "D1 did not answer in time", N: 3}}, CanCancel: true},
		{ID: 3, State: "cancelled", StateText: "Cancelled", Trigger: "analyst", StartedBy: "Fran", StartedAt: "2026-11-29 02:00 UTC",
			EndedAt: "2026-11-29 03:00 UTC", Meta: "started 2026-11-29 02:00 UTC by Fran (analyst), ended 2026-11-29 03:00 UTC",
			Done: 10, Total: 900, Percent: 1, CallsPerSecond: "0.0",
			Summary: &views.ScanSummary{Checked: 10, WithRisks: 2, RiskKinds: []views.Count{
				{Key: "card-blocked-but-enrolled", Label: "Blocked or lost card still enrolled"},
				{Key: "card-unknown-to-issuer", Label: "Directory card unknown to the issuer", N: 2},
				{Key: "email-and-phone-changed", Label: "Email and phone changed in a directory"}}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scans page (-want +got):\n%s", diff)
	}
}

// Starting a scan is the signed-in analyst's, recorded with the scan id, and answers 409
// while one runs.
func TestStartScan(t *testing.T) {
	var got []scan.StartRequest
	running := false
	fake := &fakeScans{tb: t, start: func(r scan.StartRequest) (scan.Run, error) {
		got = append(got, r)
		if running {
			return scan.Run{}, scan.ErrConflict
		}
		running = true
		return scan.Run{ID: 9, State: scan.StateRunning}, nil
	}}
	auditor := &searchAuditor{}
	e := newScanServer(t, fake, auditor)
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/scans", nil)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if rec := do(); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/scans" {
		t.Errorf("start: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if got[0] != (scan.StartRequest{Trigger: scan.TriggerAnalyst, By: "sub-fraud", ByName: "Name fraud"}) {
		t.Errorf("start request %+v", got[0])
	}
	if len(auditor.events) != 1 || auditor.events[0].Action != audit.ActionScanStart || auditor.events[0].Details["scan"] != "9" {
		t.Errorf("audit events %+v", auditor.events)
	}
	if rec := do(); rec.Code != http.StatusConflict {
		t.Errorf("second start while one runs: %d, want 409", rec.Code)
	}
}

// An export stops at worklistExportMax rows; when more items match, its last row says so, and
// a worklist of exactly that many items exports whole without the marker.
func TestWorklistExportSaysWhenItStopsShort(t *testing.T) {
	for _, tc := range []struct {
		name      string
		items     int
		truncated bool
	}{
		{"more than the bound", worklistExportMax + 1, true},
		{"exactly the bound", worklistExportMax, false},
		{"under the bound", 1200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			item := testItems()[0]
			fake := &fakeScans{tb: t, worklist: func(q scan.WorklistQuery) (scan.WorklistPage, error) {
				start := 0
				if q.After != "" {
					start, _ = strconv.Atoi(q.After)
				}
				end := min(start+q.Limit, tc.items)
				page := scan.WorklistPage{Total: scan.CountCap, Capped: true}
				for i := start; i < end; i++ {
					it := item
					it.CustomerID = fmt.Sprintf("CU%08d", i)
					page.Items = append(page.Items, it)
				}
				if end < tc.items {
					page.Next = strconv.Itoa(end)
				}
				return page, nil
			}}
			rec := get(newScanServer(t, fake, &searchAuditor{}), "/worklist/export")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			r := csv.NewReader(rec.Body)
			r.FieldsPerRecord = -1
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			last := rows[len(rows)-1]
			gotMarker := len(last) == 1 && last[0] == worklistTruncatedMarker
			if gotMarker != tc.truncated {
				t.Errorf("last row %q: truncation marker %v, want %v", last, gotMarker, tc.truncated)
			}
			want := 1 + min(tc.items, worklistExportMax) // the header, then the items
			if tc.truncated {
				want++
			}
			if len(rows) != want {
				t.Errorf("%d rows, want %d", len(rows), want)
			}
		})
	}
}
