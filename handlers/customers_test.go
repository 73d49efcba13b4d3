package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/issuerdb"
	"ctpdesk/mask"
	"ctpdesk/static"
	"ctpdesk/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

const (
	testPortfolioSeed = 42
	testPortfolioSize = 500
)

// mustIssuerDB seeds a small synthetic portfolio into a fresh SQLite file and opens it
// read-only, as production does.
func mustIssuerDB(tb testing.TB, n int) *issuerdb.DB {
	tb.Helper()
	u := "sqlite:" + filepath.Join(tb.TempDir(), "issuer.db")
	if err := issuerdb.Seed(context.Background(), u, n, testPortfolioSeed); err != nil {
		tb.Fatal(err)
	}
	db, err := issuerdb.Open(context.Background(), u, issuerdb.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// searchAuditor keeps the audit events of the customer pages, or fails when err is set.
type searchAuditor struct {
	mu     sync.Mutex
	events []audit.Event
	err    error
}

func (a *searchAuditor) Record(_ context.Context, e audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.events = append(a.events, e)
	return nil
}

func newCustomerServer(tb testing.TB, customers CustomerSearcher) *echo.Echo {
	tb.Helper()
	return newCustomerServerAudited(tb, customers, &searchAuditor{})
}

// newCustomerServerAudited serves the app's routes with a signed-in user whose role comes
// from the X-Test-Role header (agent when absent).
func newCustomerServerAudited(tb testing.TB, customers CustomerSearcher, auditor Auditor) *echo.Echo {
	tb.Helper()
	assets, err := static.Load("/static")
	if err != nil {
		tb.Fatal(err)
	}
	h := mustNew(tb, Deps{Logger: slog.New(slog.DiscardHandler), Assets: assets, Version: "test", Customers: customers, Auditor: auditor})
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			role := cmpOr(c.Request().Header.Get("X-Test-Role"), "agent")
			u := auth.User{Issuer: "https://idp.test", Subject: "sub-" + role, Name: role, Roles: []auth.Role{auth.Role(role)}}
			c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
			return next(c)
		}
	})
	h.register(e, nil)
	return e
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// get serves one request; header pairs are name, value, name, value…
func get(e *echo.Echo, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func mustDoc(tb testing.TB, rec *httptest.ResponseRecorder) *goquery.Document {
	tb.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func TestCustomersSearchPage(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, testPortfolioSize))
	want := issuerdb.NewGenerator(testPortfolioSeed).Customer(5)

	rec := get(e, "/customers")
	doc := mustDoc(t, rec)
	if rec.Code != http.StatusOK || doc.Find("[data-search-box]").Length() != 1 || doc.Find("[data-testid=search-empty]").Length() != 1 {
		t.Fatalf("empty search page: status %d, body:\n%s", rec.Code, rec.Body)
	}

	rec = get(e, "/customers?q="+url.QueryEscape(strings.ToUpper(want.Email)))
	doc = mustDoc(t, rec)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	row := doc.Find(`tr[data-customer-id="` + want.ID + `"]`)
	if row.Length() != 1 {
		t.Fatalf("no row for %s:\n%s", want.ID, rec.Body)
	}
	if href, _ := row.Find("a").Attr("href"); href != "/customers/"+want.ID {
		t.Errorf("row links to %q", href)
	}
	if got := row.Find("[data-testid=masked-email]").Text(); got != mask.MaskEmail(want.Email) {
		t.Errorf("email shown as %q, want %q", got, mask.MaskEmail(want.Email))
	}
	if strings.Contains(rec.Body.String(), want.Email) || strings.Contains(rec.Body.String(), want.Phone) {
		t.Error("the page holds unmasked contact data")
	}
	if got := doc.Find("[data-testid=search-kind]").AttrOr("data-kind", ""); got != "email" {
		t.Errorf("kind %q, want email", got)
	}
	if v, _ := doc.Find("[data-search-box]").Attr("value"); v != strings.ToUpper(want.Email) {
		t.Errorf("the box does not keep the query: %q", v)
	}
	for _, h := range []string{"Cache-Control", "Vary"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "HX-Request") {
		t.Errorf("Vary = %q, want HX-Request in it", rec.Header().Values("Vary"))
	}
}

func TestCustomersSearchFragmentAndJSON(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, testPortfolioSize))
	target := "/customers?q=a&limit=5"

	rec := get(e, target, "HX-Request", "true")
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("htmx answer: status %d, want a fragment:\n%s", rec.Code, rec.Body)
	}
	doc := mustDoc(t, rec)
	var htmlIDs []string
	doc.Find("tr[data-customer-id]").Each(func(_ int, s *goquery.Selection) {
		htmlIDs = append(htmlIDs, s.AttrOr("data-customer-id", ""))
	})
	next, _ := doc.Find("[data-testid=next-page]").Attr("href")
	if len(htmlIDs) != 5 || next == "" {
		t.Fatalf("fragment: %d rows, next %q; want 5 and a next page", len(htmlIDs), next)
	}

	rec = get(e, target, "Accept", "application/json")
	var got views.SearchResults
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("JSON: status %d, %v:\n%s", rec.Code, err, rec.Body)
	}
	var jsonIDs []string
	for _, r := range got.Rows {
		jsonIDs = append(jsonIDs, r.CustomerID)
		if !strings.Contains(r.Email, mask.Dot) || !strings.Contains(r.Phone, mask.Dot) {
			t.Errorf("JSON row %s is not masked: %q %q", r.CustomerID, r.Email, r.Phone)
		}
	}
	if diff := cmp.Diff(htmlIDs, jsonIDs); diff != "" || got.Kind != "name" || got.NextURL != next {
		t.Errorf("JSON differs from HTML (kind %q, next %q vs %q) (-html +json):\n%s", got.Kind, got.NextURL, next, diff)
	}

	// The next page continues where the first ended, without repeating a row.
	rec = get(e, next, "Accept", "application/json")
	var second views.SearchResults
	if err := json.Unmarshal(rec.Body.Bytes(), &second); err != nil || len(second.Rows) == 0 {
		t.Fatalf("second page: %v %s", err, rec.Body)
	}
	for _, r := range second.Rows {
		for _, id := range htmlIDs {
			if r.CustomerID == id {
				t.Errorf("customer %s on both pages", id)
			}
		}
	}
}

func TestCustomersSearchBadInput(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, 50))
	for _, q := range []string{" ", strings.Repeat("x", 201), "a\x01b", "\xff", `"`, "*", "--", "%", "_"} {
		target := "/customers?q=" + url.QueryEscape(q)
		for _, mode := range [][]string{nil, {"HX-Request", "true"}, {"Accept", "application/json"}} {
			rec := get(e, target, mode...)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%q %v: status %d, want 400", q, mode, rec.Code)
				continue
			}
			body := rec.Body.String()
			if strings.Contains(strings.ToLower(body), "sql") || strings.Contains(body, "fts5") {
				t.Errorf("%q %v: the answer leaks internals:\n%s", q, mode, body)
			}
			if mode == nil && mustDoc(t, rec).Find("[data-testid=search-message]").Text() == "" {
				t.Errorf("%q: the page shows no message", q)
			}
		}
	}
	for _, q := range []string{"NEAR", "OR", "smith OR jones", "'; DROP TABLE customers; --"} {
		if rec := get(e, "/customers?q="+url.QueryEscape(q)); rec.Code != http.StatusOK {
			t.Errorf("%q: status %d, want 200 (searched as text)", q, rec.Code)
		}
	}
	for _, p := range []string{"limit=0", "limit=101", "limit=x", "limit=-1", "after=%25%25", "after=bm9wZQ"} {
		rec := get(e, "/customers?q=smith&"+p)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", p, rec.Code)
		}
	}
}

func TestCustomerPage(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, 50))
	want := issuerdb.NewGenerator(testPortfolioSeed).Customer(7)
	rec := get(e, "/customers/"+want.ID)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", rec.Code, rec.Body)
	}
	doc := mustDoc(t, rec)
	record := doc.Find(`#issuer-record[data-customer-id="` + want.ID + `"]`)
	if record.Length() != 1 {
		t.Fatalf("no issuer record for %s", want.ID)
	}
	if got := record.Find(`[data-issuer-field=consumerId]`).Text(); got != want.ConsumerID {
		t.Errorf("consumer id %q, want %q", got, want.ConsumerID)
	}
	if got := record.Find("tr[data-card-id]").Length(); got != len(want.Cards) {
		t.Errorf("%d cards shown, want %d", got, len(want.Cards))
	}
	cmpSection := doc.Find("section#comparison")
	if cmpSection.AttrOr("hx-get", "") != "/customers/"+want.ID+"/comparison" || cmpSection.AttrOr("hx-trigger", "") != "load" ||
		cmpSection.Find("[role=status]").Length() != 1 {
		t.Errorf("comparison placeholder is wrong: %s", goquery.NewDocumentFromNode(cmpSection.Nodes[0]).Text())
	}
	if strings.Contains(rec.Body.String(), want.Email) {
		t.Error("the page holds the unmasked email")
	}

	rec = get(e, "/customers/"+want.ID, "Accept", "application/json")
	var got views.CustomerRecord
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.CustomerID != want.ID || len(got.Cards) != len(want.Cards) {
		t.Errorf("JSON: %v %+v", err, got)
	}

	for _, id := range []string{"CU99999999", "nope", url.PathEscape("' OR 1=1"), strings.Repeat("9", 300)} {
		rec := get(e, "/customers/"+id)
		if rec.Code != http.StatusNotFound || mustDoc(t, rec).Find("[data-testid=error]").Length() != 1 {
			t.Errorf("/customers/%s: status %d, want the 404 page", id, rec.Code)
		}
	}
}

func TestSearchViewMasksUnlessRevealed(t *testing.T) {
	c := issuerdb.Customer{ID: "CU00000001", ConsumerID: "c-1", FirstName: "Zoë", MiddleName: "", LastName: "Smith",
		Email: "zoe@example.com", Phone: "+447400123456", Status: issuerdb.CustomerActive,
		Cards: []issuerdb.Card{{Scheme: "VISA", Last4: "4242", Status: issuerdb.CardLost}}}
	page := issuerdb.Page{Kind: issuerdb.KindName, Customers: []issuerdb.Customer{c}, Next: "abc"}
	in := searchInput{Query: "zoe smith", Limit: 5}
	want := views.SearchResults{
		Query: "zoe smith", Kind: "name", KindLabel: "name",
		Rows: []views.SearchRow{{CustomerID: "CU00000001", ConsumerID: "c-1", Name: "Zoë Smith",
			Email: "z•••@example.com", Phone: "+44 •••• ••3456", Status: "active", URL: "/customers/CU00000001",
			Cards: []views.CardSummary{{Scheme: "VISA", Last4: "4242", Status: "lost"}}}},
		NextURL: "/customers?after=abc&limit=5&q=zoe+smith",
	}
	if diff := cmp.Diff(want, searchView(in, page, nil, false)); diff != "" {
		t.Errorf("masked (-want +got):\n%s", diff)
	}
	want.Rows[0].Email, want.Rows[0].Phone = c.Email, c.Phone
	if diff := cmp.Diff(want, searchView(in, page, nil, true)); diff != "" {
		t.Errorf("revealed (-want +got):\n%s", diff)
	}
}

func TestCustomerPagesAreAudited(t *testing.T) {
	aud := &searchAuditor{}
	e := newCustomerServerAudited(t, mustIssuerDB(t, 50), aud)
	want := issuerdb.NewGenerator(testPortfolioSeed).Customer(3)
	get(e, "/customers")
	get(e, "/customers?q="+url.QueryEscape(want.Email))
	get(e, "/customers?q=%25")
	get(e, "/customers/"+want.ID)
	get(e, "/customers/CU99999999")
	type row struct {
		Action   audit.Action
		Outcome  audit.Outcome
		Customer string
		Details  map[string]string
	}
	var got []row
	for _, ev := range aud.events {
		got = append(got, row{ev.Action, ev.Outcome, ev.CustomerID, ev.Details})
		if ev.Actor.Subject != "sub-agent" {
			t.Errorf("event %s without the actor: %+v", ev.Action, ev.Actor)
		}
	}
	wantRows := []row{
		{audit.ActionSearch, audit.Success, "", map[string]string{"kind": "email", "results": "1"}},
		{audit.ActionSearch, audit.Failure, "", map[string]string{"reason": "invalid_query"}},
		{audit.ActionCustomerView, audit.Success, want.ID, nil},
		{audit.ActionCustomerView, audit.Failure, "", map[string]string{"reason": "not_found"}},
	}
	if diff := cmp.Diff(wantRows, got); diff != "" {
		t.Errorf("audit events (-want +got):\n%s", diff)
	}
	if strings.Contains(fmt.Sprint(aud.events), want.Email) {
		t.Error("the trail holds the searched email")
	}

	// When the trail cannot be written, no customer data leaves.
	down := &searchAuditor{err: fmt.Errorf("disk full: %w", audit.ErrUnavailable)}
	e = newCustomerServerAudited(t, mustIssuerDB(t, 50), down)
	for _, target := range []string{"/customers?q=" + url.QueryEscape(want.Email), "/customers/" + want.ID} {
		rec := get(e, target)
		if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), want.ID) {
			t.Errorf("%s with the trail down: status %d, body holds the customer: %v", target, rec.Code, strings.Contains(rec.Body.String(), want.ID))
		}
	}
}

func TestFraudAnalystsSeeContactDataUnmasked(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, 50))
	want := issuerdb.NewGenerator(testPortfolioSeed).Customer(9)
	for role, unmasked := range map[string]bool{"agent": false, "fraud": true} {
		for _, target := range []string{"/customers?q=" + want.ID, "/customers/" + want.ID} {
			body := get(e, target, "X-Test-Role", role).Body.String()
			if strings.Contains(body, want.Email) != unmasked || strings.Contains(body, want.Phone) != unmasked {
				t.Errorf("%s on %s: unmasked contact shown = %v, want %v", role, target, !unmasked, unmasked)
			}
		}
	}
}
