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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// Begin records at once: the event is settled before the handler goes on.
func (a *searchAuditor) Begin(ctx context.Context, e audit.Event) *audit.Receipt {
	return audit.Settled(a.Record(ctx, e))
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

// TestCustomersSearchCountsAndHighlights: the results say how many match and which rows a
// page shows, mark in every name the part the query matched, and show where each customer
// lives instead of the consumer id.
func TestCustomersSearchCountsAndHighlights(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, testPortfolioSize))
	var first views.SearchResults
	rec := get(e, "/customers?q=a&limit=5", "Accept", "application/json")
	if err := json.Unmarshal(rec.Body.Bytes(), &first); err != nil || first.Total <= 5 {
		t.Fatalf("JSON: %v, total %d; want more than a page of matches", err, first.Total)
	}
	wantCount := fmt.Sprintf("Showing 5 of %d", first.Total)
	for page, target := range []string{"/customers?q=a&limit=5", first.NextURL} {
		doc := mustDoc(t, get(e, target, "HX-Request", "true"))
		count := doc.Find("[data-testid=result-count]")
		if got := count.Text(); got != wantCount {
			t.Errorf("page %d: count %q, want %q", page+1, got, wantCount)
		}
		if got := count.AttrOr("data-total", ""); got != fmt.Sprint(first.Total) {
			t.Errorf("page %d: data-total %q, want %d", page+1, got, first.Total)
		}
		doc.Find("tr[data-customer-id]").Each(func(_ int, row *goquery.Selection) {
			marks := row.Find("a[data-result-link] mark")
			if marks.Length() == 0 {
				t.Errorf("row %s: no highlight in %q", row.AttrOr("data-customer-id", ""), row.Find("a").Text())
			}
			marks.Each(func(_ int, m *goquery.Selection) {
				if !strings.HasPrefix(issuerdb.Fold(m.Text()), "a") {
					t.Errorf("row %s: %q is marked, which does not start with the query", row.AttrOr("data-customer-id", ""), m.Text())
				}
			})
			if row.Find("[data-testid=customer-place]").Text() == "" {
				t.Errorf("row %s says nothing of where the customer lives", row.AttrOr("data-customer-id", ""))
			}
		})
		if doc.Find("th:contains('Consumer id')").Length() != 0 {
			t.Error("the results still show the consumer id column")
		}
		wantCount = fmt.Sprintf("Showing 6–10 of %d", first.Total)
	}
	// A card search marks the card whose last 4 was typed.
	c := issuerdb.NewGenerator(testPortfolioSeed).Customer(7)
	doc := mustDoc(t, get(e, "/customers?q="+c.Cards[0].Last4))
	if got := doc.Find(`tr[data-customer-id="` + c.ID + `"] .card-summary mark`).Text(); got != c.Cards[0].Last4 {
		t.Errorf("card search marks %q, want %q", got, c.Cards[0].Last4)
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
		Address: issuerdb.Address{City: "Manchester", PostalCode: "M4 1AB", Country: "GB"},
		Cards: []issuerdb.Card{{Scheme: "VISA", Last4: "4242", Status: issuerdb.CardLost},
			{Scheme: "MASTERCARD", Last4: "1234", Status: issuerdb.CardActive}}}
	page := issuerdb.Page{Kind: issuerdb.KindLast4Name, Customers: []issuerdb.Customer{c}, Next: "abc",
		Total: 228, Offset: 20, Tokens: []string{"zo"}, Last4: "4242"}
	in := searchInput{Query: "4242 zo", Limit: 5}
	want := views.SearchResults{
		Query: "4242 zo", Kind: "last4+name", KindLabel: "card last 4 and name",
		Rows: []views.SearchRow{{CustomerID: "CU00000001", ConsumerID: "c-1", Name: "Zoë Smith",
			NameParts: []views.TextPart{{Text: "Zo", Mark: true}, {Text: "ë Smith"}},
			Place:     "Manchester M4 1AB", Country: "GB",
			Email: "z•••@example.com", Phone: "+44 •••• ••3456", Status: "active", URL: "/customers/CU00000001",
			Cards: []views.CardSummary{{Scheme: "VISA", Last4: "4242", Status: "lost", Match: true},
				{Scheme: "MASTERCARD", Last4: "1234", Status: "active"}}}},
		From: 21, To: 21, Total: 228, CountText: "Showing 21–21 of 228",
		NextURL: "/customers?after=abc&limit=5&q=4242+zo",
	}
	if diff := cmp.Diff(want, searchView(in, page, nil, false)); diff != "" {
		t.Errorf("masked (-want +got):\n%s", diff)
	}
	want.Rows[0].Email, want.Rows[0].Phone = c.Email, c.Phone
	if diff := cmp.Diff(want, searchView(in, page, nil, true)); diff != "" {
		t.Errorf("revealed (-want +got):\n%s", diff)
	}
}

func TestCountText(t *testing.T) {
	for _, tc := range []struct {
		from, to, total int
		over, atLeast   bool
		want            string
	}{
		{1, 20, 228, false, false, "Showing 20 of 228"},
		{21, 40, 228, false, false, "Showing 21–40 of 228"},
		{1, 3, 3, false, false, "Showing 3 of 3"},
		{1, 20, 1000, true, false, "Showing 20 of over 1,000"},
		{1001, 1020, 1000, true, false, "Showing 1,001–1,020 of over 1,000"},
		{1, 20, 509, false, true, "Showing 20 of at least 509"},
		{1, 20, 0, false, true, "Showing 20 of at least 20"},
		{21, 40, 7, false, true, "Showing 21–40 of at least 40"},
	} {
		if got := countText(tc.from, tc.to, tc.total, tc.over, tc.atLeast); got != tc.want {
			t.Errorf("countText(%d, %d, %d, %v, %v) = %q, want %q", tc.from, tc.to, tc.total, tc.over, tc.atLeast, got, tc.want)
		}
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

// beginCounter is a searchAuditor that counts the events begun.
type beginCounter struct {
	searchAuditor
	begun atomic.Int32
}

func (a *beginCounter) Begin(ctx context.Context, e audit.Event) *audit.Receipt {
	a.begun.Add(1)
	return a.searchAuditor.Begin(ctx, e)
}

// beganWhileSearching is the issuer database, noting how many audit events had been begun
// when each Search returned.
type beganWhileSearching struct {
	*issuerdb.DB
	aud      *beginCounter
	atReturn []int32
}

func (s *beganWhileSearching) Search(ctx context.Context, q issuerdb.Query) (issuerdb.Page, error) {
	page, err := s.DB.Search(ctx, q)
	s.atReturn = append(s.atReturn, s.aud.begun.Load())
	return page, err
}

// A search's audit event is begun as soon as its rows are found, so it commits while the
// matches are counted and the cards read, and it records what the page shows: the kind and
// the number of rows. An invalid query still records its failure after the search.
func TestSearchEventBeginsOnceTheRowsAreFound(t *testing.T) {
	aud := &beginCounter{}
	db := &beganWhileSearching{DB: mustIssuerDB(t, testPortfolioSize), aud: aud}
	e := newCustomerServerAudited(t, db, aud)
	c := issuerdb.NewGenerator(testPortfolioSeed).Customer(7)
	for i, q := range []string{issuerdb.Fold(c.LastName)[:1], c.ID, "%"} {
		rec := get(e, "/customers?q="+url.QueryEscape(q), "HX-Request", "true")
		if q != "%" && rec.Code != http.StatusOK || q == "%" && rec.Code != http.StatusBadRequest {
			t.Fatalf("%q: %d", q, rec.Code)
		}
		want := int32(i + 1)
		if q == "%" {
			want = int32(i) // the failure is recorded after the search said why
		}
		if got := db.atReturn[i]; got != want {
			t.Errorf("%q: %d events begun when the search returned, want %d", q, got, want)
		}
	}
	direct, err := db.DB.Search(context.Background(), issuerdb.Query{Text: issuerdb.Fold(c.LastName)[:1]})
	if err != nil || direct.Next == "" {
		t.Fatalf("the name search is one page (%v): its count is not needed, the case proves less", err)
	}
	if ev := aud.events[0]; ev.Details["kind"] != string(issuerdb.KindName) || ev.Details["results"] != strconv.Itoa(len(direct.Customers)) {
		t.Errorf("the name search recorded %v, want kind name and the page's %d rows", ev.Details, len(direct.Customers))
	}
	if ev := aud.events[1]; ev.Details["kind"] != string(issuerdb.KindCustomerID) || ev.Details["results"] != "1" {
		t.Errorf("the id search recorded %v, want kind customer-id and 1 row", ev.Details)
	}
	if ev := aud.events[2]; ev.Outcome != audit.Failure || ev.Details["reason"] != "invalid_query" {
		t.Errorf("the invalid query recorded %+v", ev)
	}
}
