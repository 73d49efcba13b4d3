package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

func TestAuditPageFiltersAndRecordsTheRead(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 30)
	w := f.get(RoleAuditor, "/audit?customer=CU00000003&outcome=success")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("the audit page may be cached")
	}
	doc := mustDoc(t, w)
	rows := doc.Find(`[data-testid="audit-row"]`)
	// The read is committed before the query runs, so the page lists its own event first.
	want := f.events(t, audit.Filter{CustomerID: "CU00000003", Outcome: audit.Success})
	if rows.Length() != len(want) || len(want) < 2 {
		t.Fatalf("%d rows, want %d", rows.Length(), len(want))
	}
	if a, _ := rows.First().Attr("data-action"); a != string(audit.ActionAuditRead) {
		t.Errorf("first row is %q, want this page's own audit.read", a)
	}
	rows.Each(func(_ int, s *goquery.Selection) {
		if id, _ := s.Attr("data-customer-id"); id != "CU00000003" {
			t.Errorf("row for customer %q", id)
		}
		if o, _ := s.Attr("data-outcome"); o != "success" {
			t.Errorf("row with outcome %q", o)
		}
	})
	if st, _ := doc.Find(`[data-testid="chain-status"]`).Attr("data-state"); st != "verified" {
		t.Errorf("chain status %q, want verified", st)
	}
	if v, _ := doc.Find(`[data-testid="filter-customer"]`).Attr("value"); v != "CU00000003" {
		t.Errorf("the filter form does not echo the customer: %q", v)
	}
	reads := f.events(t, audit.Filter{Action: audit.ActionAuditRead})
	if len(reads) != 1 {
		t.Fatalf("%d audit.read events, want 1", len(reads))
	}
	r := reads[0]
	if r.Actor.Subject != "sub-auditor" || r.CustomerID != "CU00000003" || r.Details["filters"] != "customer,outcome" ||
		r.RequestID != w.Header().Get("X-Request-Id") || r.ClientIP != "192.0.2.1" {
		t.Errorf("audit.read event = %+v", r)
	}
}

func TestAuditPageKeysetPagination(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 120)
	seen := map[string]bool{}
	target := "/audit?action=customer.view"
	for pages := 0; target != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		w := f.get(RoleAuditor, target)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", target, w.Code)
		}
		doc := mustDoc(t, w)
		doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
			seq, _ := s.Attr("data-seq")
			if seen[seq] {
				t.Errorf("seq %s on two pages", seq)
			}
			seen[seq] = true
		})
		next, _ := doc.Find(`[data-testid="audit-next"]`).Attr("href")
		if first := doc.Find(`[data-testid="audit-first"]`).Length(); (pages == 0) != (first == 0) {
			t.Errorf("page %d: newest-events link present = %v", pages, first == 1)
		}
		if next != "" && !strings.Contains(next, "action=customer.view") {
			t.Errorf("next link %q drops the filter", next)
		}
		target = next
	}
	if len(seen) != 120 {
		t.Fatalf("saw %d events over all pages, want 120", len(seen))
	}
}

func TestAuditPageBadFilters(t *testing.T) {
	f := newTrailFixture(t, nil)
	for _, q := range []string{
		"action=customer.delete", "outcome=maybe", "from=yesterday", "to=2026-13-45T99:00",
		"from=2026-02-01&to=2026-01-01", "before=-3", "before=abc", "before=99999999999999999999",
		"actor=" + url.QueryEscape("a\x00b"), "customer=" + strings.Repeat("x", 129), "from=0001-01-01",
	} {
		w := f.get(RoleAuditor, "/audit?"+q)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, w.Code)
		}
		if body := w.Body.String(); strings.Contains(body, "SELECT") || strings.Contains(body, "sqlite") || strings.Contains(body, "audit_events") {
			t.Errorf("%s: the error page leaks SQL", q)
		}
	}
	if n := len(f.events(t, audit.Filter{Action: audit.ActionAuditRead})); n != 0 {
		t.Errorf("%d reads recorded for refused filters", n)
	}
}

func TestAuditPageJSON(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 3)
	w := f.get(RoleAuditor, "/audit?action=customer.view", "Accept", "application/json")
	var got views.AuditPage
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &got) != nil {
		t.Fatalf("JSON twin: %d %s", w.Code, w.Body)
	}
	if len(got.Rows) != 3 || got.Chain.State != "verified" || got.Rows[0].Seq != 3 || got.Rows[0].Hash == "" {
		t.Fatalf("JSON twin = %+v", got)
	}
}

func TestAuditPageShowsABrokenChain(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 8)
	for _, q := range []string{"DROP TRIGGER audit_events_no_update", "UPDATE audit_events SET customer_id = 'CU00000009' WHERE seq = 5"} {
		if _, err := f.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	doc := mustDoc(t, f.get(RoleAuditor, "/audit"))
	st := doc.Find(`[data-testid="chain-status"]`)
	if state, _ := st.Attr("data-state"); state != "broken" || !strings.Contains(st.Text(), "broken at seq 5") {
		t.Fatalf("chain status %q: %q", state, st.Text())
	}
}

// TestAuditPagesAreForAuditorsOnly: agents and fraud analysts cannot read the trail, and
// auditors cannot read customer data.
func TestAuditPagesAreForAuditorsOnly(t *testing.T) {
	f := newTrailFixture(t, nil)
	for _, who := range []string{RoleAgent, RoleFraud} {
		for _, path := range []string{"/audit", "/audit/export"} {
			if w := f.get(who, path); w.Code != http.StatusForbidden {
				t.Errorf("%s %s = %d, want 403", who, path, w.Code)
			}
		}
	}
	for _, path := range []string{"/customers", "/customers/" + f.customer, "/customers/" + f.customer + "/comparison"} {
		if w := f.get(RoleAuditor, path); w.Code != http.StatusForbidden {
			t.Errorf("auditor %s = %d, want 403", path, w.Code)
		}
	}
	if w := f.post(RoleAuditor, "/customers/"+f.customer+"/reveal", url.Values{"field": {"email"}, "source": {"issuer"}, "reason": {"customer_verified"}}); w.Code != http.StatusForbidden {
		t.Errorf("auditor reveal = %d, want 403", w.Code)
	}
}

func TestAuditExportCSV(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 12)
	w := f.get(RoleAuditor, "/audit/export?customer=CU00000002")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if cd := w.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="ctpdesk-audit-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.CSVHeader, rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	exports := f.events(t, audit.Filter{Action: audit.ActionAuditExport})
	// The export's own event names this customer, so it is part of the export it describes.
	if len(exports) != 1 || exports[0].CustomerID != "CU00000002" || len(rows) != 1+3+1 {
		t.Fatalf("%d export events, %d CSV rows (want 1 and a header, 3 views and the export itself)", len(exports), len(rows))
	}
	for _, r := range rows[1:] {
		if r[8] != "CU00000002" {
			t.Errorf("exported a row of customer %q", r[8])
		}
	}
}

// TestAuditPagesFailClosed: with the trail unwritable, neither the page nor the export shows
// any event.
func TestAuditPagesFailClosed(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 5)
	f.trail.Close()
	for _, path := range []string{"/audit", "/audit/export", "/audit?customer=CU00000001"} {
		w := f.get(RoleAuditor, path)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s with the trail closed = %d, want 503", path, w.Code)
		}
		if strings.Contains(w.Body.String(), "192.0.2.7") || strings.Contains(w.Body.String(), "agent-a") {
			t.Errorf("%s: the 503 page shows trail data", path)
		}
	}
}

func TestParseAuditTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-01-31T09:00":          time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
		"2026-01-31T09:00:30":       time.Date(2026, 1, 31, 9, 0, 30, 0, time.UTC),
		"2026-01-31":                time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		"2026-01-31T09:00:00+02:00": time.Date(2026, 1, 31, 7, 0, 0, 0, time.UTC),
	} {
		got, err := parseAuditTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseAuditTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"31/01/2026", "1999-12-31", "2026-01-31T25:00", "now", "2026-01-31 09:00"} {
		if _, err := parseAuditTime(in); err == nil {
			t.Errorf("parseAuditTime(%q) accepted", in)
		}
	}
}
