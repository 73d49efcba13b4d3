package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// TestAuditPageFiltersAndRecordsTheRead: a customer's access history lists the accesses to
// the customer (not the auditors' reads of the trail), links nowhere but to itself, and the
// read of it is recorded with the customer's id.
func TestAuditPageFiltersAndRecordsTheRead(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 30)
	// An earlier read of this customer's history, which the history leaves out.
	f.get(RoleAuditor, "/audit?customer=CU00000003")
	w := f.get(RoleAuditor, "/audit?customer=CU00000003&outcome=success")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("the audit page may be cached")
	}
	doc := mustDoc(t, w)
	if got := doc.Find(`[data-testid="audit-history"]`).AttrOr("data-customer-id", ""); got != "CU00000003" {
		t.Errorf("the page is not titled as the history of CU00000003 (%q)", got)
	}
	rows := doc.Find(`[data-testid="audit-row"]`)
	want := f.events(t, audit.Filter{CustomerID: "CU00000003", Outcome: audit.Success, SkipTrailReads: true})
	if rows.Length() != len(want) || len(want) < 2 {
		t.Fatalf("%d rows, want %d", rows.Length(), len(want))
	}
	rows.Each(func(_ int, s *goquery.Selection) {
		if id, _ := s.Attr("data-customer-id"); id != "CU00000003" {
			t.Errorf("row for customer %q", id)
		}
		if o, _ := s.Attr("data-outcome"); o != "success" {
			t.Errorf("row with outcome %q", o)
		}
		if a, _ := s.Attr("data-action"); a == string(audit.ActionAuditRead) {
			t.Error("the customer's history lists a read of the trail")
		}
	})
	if doc.Find(`[data-testid="customer-history-link"]`).Length() != 0 {
		t.Error("the history links to itself from every row")
	}
	if st, _ := doc.Find(`[data-testid="chain-status"]`).Attr("data-state"); st != "verified" {
		t.Errorf("chain status %q, want verified", st)
	}
	if v, _ := doc.Find(`[data-testid="filter-customer"]`).Attr("value"); v != "CU00000003" {
		t.Errorf("the filter form does not echo the customer: %q", v)
	}
	reads := f.events(t, audit.Filter{Action: audit.ActionAuditRead})
	if len(reads) != 2 {
		t.Fatalf("%d audit.read events, want 2", len(reads))
	}
	r := reads[0]
	if r.Actor.Subject != "sub-auditor" || r.CustomerID != "CU00000003" || r.Details["filters"] != "customer,outcome" ||
		r.RequestID != w.Header().Get("X-Request-Id") || r.ClientIP != "192.0.2.1" {
		t.Errorf("audit.read event = %+v", r)
	}
	// Asked for by their action, the reads are listed; the whole trail links each customer
	// to their history.
	doc = mustDoc(t, f.get(RoleAuditor, "/audit?customer=CU00000003&action=audit.read"))
	if n := doc.Find(`[data-testid="audit-row"][data-action="audit.read"]`).Length(); n != 3 {
		t.Errorf("%d reads listed when asked for, want 3", n)
	}
	doc = mustDoc(t, f.get(RoleAuditor, "/audit"))
	if href := doc.Find(`[data-testid="audit-row"][data-customer-id="CU00000003"] [data-testid="customer-history-link"]`).First().AttrOr("href", ""); href != "/audit?customer=CU00000003" {
		t.Errorf("a row of the whole trail links to %q, want the customer's history", href)
	}
	var history views.AuditPage
	w = f.get(RoleAuditor, "/audit?customer=CU00000003", "Accept", "application/json")
	if err := json.Unmarshal(w.Body.Bytes(), &history); err != nil || history.History != "CU00000003" || len(history.Rows) == 0 {
		t.Errorf("JSON twin of the history: %v, %+v", err, history)
	}
}

// TestAuditActorFilter: the actor filter matches, ignoring case, the start of a subject, of a
// name or of a word of the name, on the page and in the export; the form suggests the actors
// of recent events.
func TestAuditActorFilter(t *testing.T) {
	f := newTrailFixture(t, nil)
	ctx := context.Background()
	for i, a := range []audit.Actor{
		{Issuer: "https://idp.test", Subject: "devidp-agent", Name: "Alex Agent"},
		{Issuer: "https://idp.test", Subject: "devidp-fraud", Name: "Farah Fraud"},
		{Issuer: "https://idp.test", Subject: "devidp-agent", Name: "Alex Agent"},
	} {
		e := audit.Event{Actor: a, Action: audit.ActionCustomerView, Outcome: audit.Success,
			CustomerID: fmt.Sprintf("CU0000000%d", i+1), ClientIP: "192.0.2.7", RequestID: "seed"}
		if err := f.trail.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		actor string
		want  int
	}{{"agent", 2}, {"Alex", 2}, {"ALEX AG", 2}, {"devidp-", 3}, {"fraud", 1}, {"farah f", 1}, {"gent", 0}, {"Bob", 0}} {
		doc := mustDoc(t, f.get(RoleAuditor, "/audit?action=customer.view&actor="+url.QueryEscape(tc.actor)))
		if n := doc.Find(`[data-testid="audit-row"]`).Length(); n != tc.want {
			t.Errorf("actor %q: %d rows, want %d", tc.actor, n, tc.want)
		}
		w := f.get(RoleAuditor, "/audit/export?action=customer.view&actor="+url.QueryEscape(tc.actor))
		rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
		if err != nil || len(rows) != 1+tc.want {
			t.Errorf("actor %q: export of %d rows (%v), want %d and a header", tc.actor, len(rows), err, tc.want)
		}
	}
	doc := mustDoc(t, f.get(RoleAuditor, "/audit"))
	var suggested []string
	doc.Find(`#actor-suggestions option`).Each(func(_ int, s *goquery.Selection) {
		suggested = append(suggested, s.AttrOr("value", "")+"="+s.Text())
	})
	// Newest first: the auditor's own reads and exports above, then the agent and the analyst.
	want := []string{"sub-auditor=Test auditor", "devidp-agent=Alex Agent", "devidp-fraud=Farah Fraud"}
	if diff := cmp.Diff(want, suggested); diff != "" {
		t.Errorf("suggested actors (-want +got):\n%s", diff)
	}
	if doc.Find(`[data-testid="filter-actor"]`).AttrOr("list", "") != "actor-suggestions" {
		t.Error("the actor field does not offer the suggestions")
	}
}

// TestAuditTimesAreISO: the time filters are ISO 8601 text fields in UTC (no locale-rendered
// datetime-local), and every time the page shows is ISO 8601 in UTC.
func TestAuditTimesAreISO(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.seed(t, 3)
	doc := mustDoc(t, f.get(RoleAuditor, "/audit?from=2000-01-01T00:00Z&to="+url.QueryEscape("2999-12-31 23:59")))
	for _, name := range []string{"from", "to"} {
		in := doc.Find(`[data-testid="filter-` + name + `"]`)
		if in.AttrOr("type", "") != "text" || in.AttrOr("placeholder", "") != TimeExample || in.AttrOr("pattern", "") == "" {
			t.Errorf("%s field: type %q placeholder %q pattern %q", name, in.AttrOr("type", ""), in.AttrOr("placeholder", ""), in.AttrOr("pattern", ""))
		}
	}
	if got := doc.Find(`[data-testid="audit-range"]`).Text(); got != "Events from 2000-01-01T00:00:00Z to before 2999-12-31T23:59:00Z (UTC)." {
		t.Errorf("range line %q", got)
	}
	iso := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	times := doc.Find(`[data-testid="audit-row"] time`)
	if times.Length() != 4 { // three views and this read
		t.Fatalf("%d rows, want 4", times.Length())
	}
	times.Each(func(_ int, s *goquery.Selection) {
		if !iso.MatchString(s.Text()) || s.AttrOr("datetime", "") != s.Text() {
			t.Errorf("time shown as %q (datetime %q), want ISO 8601 UTC", s.Text(), s.AttrOr("datetime", ""))
		}
	})
	if got := doc.Find(`[data-testid="chain-status"] .muted`).Text(); !regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`).MatchString(got) {
		t.Errorf("chain check time %q is not ISO 8601", got)
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

// TestAuditPageBadFilters: every refused filter is a 400 that shows the form again with what
// was typed, the field at fault marked and the reason, in the page and in the JSON twin; the
// export refuses the same way; nothing is read, so nothing is recorded.
func TestAuditPageBadFilters(t *testing.T) {
	f := newTrailFixture(t, nil)
	short := func(q string) string { return q[:min(len(q), 60)] }
	for _, tc := range []struct{ query, field string }{
		{"action=customer.delete", "action"}, {"outcome=maybe", "outcome"}, {"from=yesterday", "from"},
		{"to=2026-13-45T99:00", "to"}, {"from=2026-02-01&to=2026-01-01", "to"}, {"from=2026-01-01&to=2026-01-01T00:00Z", "to"},
		{"before=-3", ""}, {"before=abc", ""}, {"before=99999999999999999999", ""},
		{"actor=" + url.QueryEscape("a\x00b"), "actor"}, {"actor=" + url.QueryEscape(strings.Repeat("é", 200)), "actor"},
		{"customer=" + strings.Repeat("x", 129), "customer"}, {"from=0001-01-01", "from"}, {"from=2026-01-01T09:00+25:00", "from"},
		{"from=" + url.QueryEscape("2026-01-01T09:00Z<script>"), "from"}, {"to=%E2%80%AE2026-01-01", "to"},
		{"from=12/01/2026", "from"}, {"to=2026-12-01T09", "to"}, {"from=" + strings.Repeat("9", 5000), "from"},
	} {
		w := f.get(RoleAuditor, "/audit?"+tc.query)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", short(tc.query), w.Code)
			continue
		}
		body := w.Body.String()
		if strings.Contains(body, "SELECT") || strings.Contains(body, "sqlite") || strings.Contains(body, "audit_events") {
			t.Errorf("%s: the error page leaks SQL", short(tc.query))
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("%s: the typed value is echoed unescaped", short(tc.query))
		}
		doc := mustDoc(t, w)
		if doc.Find(`[data-testid="audit-problem"]`).Text() == "" || doc.Find(`[data-testid="audit-filter"]`).Length() != 1 {
			t.Errorf("%s: the page does not show the form with the reason", short(tc.query))
		}
		if tc.field != "" && doc.Find(`[data-testid="filter-`+tc.field+`"]`).AttrOr("aria-invalid", "") != "true" {
			t.Errorf("%s: the %s field is not marked invalid", short(tc.query), tc.field)
		}
		if doc.Find(`[data-testid="audit-row"]`).Length() != 0 || doc.Find(`[data-testid="chain-status"]`).Length() != 0 {
			t.Errorf("%s: the refused filter still lists events or a chain status it did not check", short(tc.query))
		}
		var v views.AuditPage
		w = f.get(RoleAuditor, "/audit?"+tc.query, "Accept", "application/json")
		if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &v) != nil || v.Problem == "" {
			t.Errorf("%s: JSON twin %d %s", short(tc.query), w.Code, w.Body)
		}
		if w := f.get(RoleAuditor, "/audit/export?"+tc.query); w.Code != http.StatusBadRequest || w.Header().Get("Content-Disposition") != "" {
			t.Errorf("%s: export %d (%q), want a 400 page", short(tc.query), w.Code, w.Header().Get("Content-Disposition"))
		}
	}
	if n := len(f.events(t, audit.Filter{Action: audit.ActionAuditRead})) + len(f.events(t, audit.Filter{Action: audit.ActionAuditExport})); n != 0 {
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
	// The export's own event names this customer; like the customer's history on the page,
	// the export lists the accesses to the customer, not the reads of the trail.
	if len(exports) != 1 || exports[0].CustomerID != "CU00000002" || len(rows) != 1+3 {
		t.Fatalf("%d export events, %d CSV rows (want 1 and a header with 3 views)", len(exports), len(rows))
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
	day := func(d, h, m, s int) time.Time { return time.Date(2026, 1, d, h, m, s, 0, time.UTC) }
	for _, tc := range []struct {
		in       string
		endOfDay bool
		want     time.Time
	}{
		{"2026-01-31T09:00Z", false, day(31, 9, 0, 0)},
		{"2026-01-31t09:00z", false, day(31, 9, 0, 0)},
		{"2026-01-31T09:00", false, day(31, 9, 0, 0)},
		{"2026-01-31 09:00", false, day(31, 9, 0, 0)},
		{"2026-01-31T09:00:30", false, day(31, 9, 0, 30)},
		{"2026-01-31T09:00:30Z", false, day(31, 9, 0, 30)},
		{"2026-01-31T09:00:30.250Z", false, day(31, 9, 0, 30).Add(250 * time.Millisecond)},
		{"2026-01-31T09:00:00+02:00", false, day(31, 7, 0, 0)},
		{"2026-01-31T09:00-05:00", false, day(31, 14, 0, 0)},
		{"2026-01-31", false, day(31, 0, 0, 0)},
		// Until a date includes that day.
		{"2026-01-31", true, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-01-31T09:00Z", true, day(31, 9, 0, 0)},
	} {
		got, err := parseAuditTime(tc.in, tc.endOfDay)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseAuditTime(%q, %v) = %v, %v; want %v", tc.in, tc.endOfDay, got, err, tc.want)
		}
	}
	pattern := regexp.MustCompile(`^(?:` + timePattern + `)$`)
	for _, in := range []string{"31/01/2026", "1999-12-31", "2026-01-31T25:00", "now", "2026-01-31T09", "2026-01-31Z",
		"2026-01-31T09:00:00+0200", "T09:00", "2026-1-31"} {
		if _, err := parseAuditTime(in, false); err == nil {
			t.Errorf("parseAuditTime(%q) accepted", in)
		}
	}
	// The browser's pattern accepts what the server accepts (Go's regexp reads it as the
	// browser does, apart from the v flag's escaped hyphen, which it also takes).
	for _, in := range []string{"2026-01-31T09:00Z", "2026-01-31 09:00", "2026-01-31", "2026-01-31T09:00:30.250Z", "2026-01-31T09:00-05:00"} {
		if !pattern.MatchString(in) {
			t.Errorf("the HTML pattern refuses %q", in)
		}
	}
	for _, in := range []string{"31/01/2026", "now", "2026-01-31T09", "2026-01-31Z"} {
		if pattern.MatchString(in) {
			t.Errorf("the HTML pattern accepts %q", in)
		}
	}
}
