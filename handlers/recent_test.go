package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/issuerdb"
	"ctpdesk/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// recentOnPage reads the recently viewed list of a search page: the customer ids and names
// in the order shown.
func recentOnPage(t *testing.T, f *trailFixture, who string) []string {
	t.Helper()
	rec := f.get(who, "/customers")
	if rec.Code != http.StatusOK {
		t.Fatalf("/customers as %s: status %d\n%s", who, rec.Code, rec.Body)
	}
	doc := mustDoc(t, rec)
	if doc.Find(`[data-testid=recently-viewed]`).Length() != 1 {
		t.Fatalf("/customers as %s has no recently viewed list", who)
	}
	var out []string
	doc.Find(`[data-recent-customer]`).Each(func(_ int, li *goquery.Selection) {
		out = append(out, li.AttrOr("data-recent-customer", "")+" "+li.Find(`[data-testid=recent-link]`).Text())
	})
	return out
}

// TestRecentlyViewedComesFromTheUsersOwnCustomerViews opens customers through the real routes
// and reads the list back from the real trail: newest first, each customer once, the user's
// own views only, linked by id alone.
func TestRecentlyViewedComesFromTheUsersOwnCustomerViews(t *testing.T) {
	f := newTrailFixture(t, nil)
	g := issuerdb.NewGenerator(testPortfolioSeed)
	name := func(i int) string { c := g.Customer(i); return c.ID + " " + fullName(c) }

	if got := recentOnPage(t, f, "agent"); len(got) != 0 {
		t.Fatalf("before any view the list holds %q", got)
	}
	if doc := mustDoc(t, f.get("agent", "/customers")); doc.Find(`[data-testid=recent-empty]`).Length() != 1 {
		t.Error("an empty list does not say what it will hold")
	}
	for _, i := range []int{2, 5, 2, 9} {
		if rec := f.get("agent", "/customers/"+issuerdb.CustomerID(i)); rec.Code != http.StatusOK {
			t.Fatalf("open customer %d: status %d", i, rec.Code)
		}
	}
	f.get("agent", "/customers/CU99999999") // not found: nothing to go back to
	f.get("fraud", "/customers/"+issuerdb.CustomerID(7))

	if diff := cmp.Diff([]string{name(9), name(2), name(5)}, recentOnPage(t, f, "agent")); diff != "" {
		t.Errorf("agent's recently viewed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{name(7)}, recentOnPage(t, f, "fraud")); diff != "" {
		t.Errorf("fraud analyst's recently viewed (-want +got):\n%s", diff)
	}
	doc := mustDoc(t, f.get("agent", "/customers"))
	doc.Find(`[data-testid=recent-link]`).Each(func(_ int, a *goquery.Selection) {
		if href := a.AttrOr("href", ""); !strings.HasPrefix(href, "/customers/CU") || strings.ContainsAny(href, "?@ ") {
			t.Errorf("a recently viewed link is %q, want /customers/<id> alone", href)
		}
	})
	// A query replaces the list; the JSON twin carries it while the box is empty.
	if doc := mustDoc(t, f.get("agent", "/customers?q=smith")); doc.Find(`[data-testid=recently-viewed]`).Length() != 0 {
		t.Error("the list is shown beside search results")
	}
	var page views.SearchResults
	if err := json.Unmarshal(f.get("agent", "/customers", "Accept", "application/json").Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if page.Recent == nil || len(page.Recent.Items) != 3 || page.Recent.Items[0].CustomerID != issuerdb.CustomerID(9) ||
		page.Recent.Items[0].ViewedISO == "" {
		t.Errorf("JSON recent list: %+v", page.Recent)
	}
}

// failingRecent is a trail whose list cannot be read.
type failingRecent struct{}

func (failingRecent) RecentCustomers(context.Context, string, string, int) ([]audit.RecentCustomer, error) {
	return nil, errors.New("audit: recent customers: database is locked")
}

func TestSearchPageWorksWhenRecentlyViewedCannotBeRead(t *testing.T) {
	f := newTrailFixture(t, func(d *Deps) { d.RecentViews = failingRecent{} })
	rec := f.get("agent", "/customers")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want the search page", rec.Code)
	}
	doc := mustDoc(t, rec)
	if doc.Find(`[data-testid=search-box]`).Length() != 1 || doc.Find(`[data-testid=recent-unavailable]`).Length() != 1 {
		t.Error("the page does not keep the box and say the list is unavailable")
	}
	if strings.Contains(rec.Body.String(), "database is locked") {
		t.Error("the error text reached the page")
	}
}

func TestRecentViewLeavesOutCustomersNoLongerHeld(t *testing.T) {
	at := time.Date(2026, 5, 1, 14, 5, 0, 0, time.UTC)
	recent := []audit.RecentCustomer{{CustomerID: "C2", ViewedAt: at}, {CustomerID: "C-GONE", ViewedAt: at}, {CustomerID: "C1", ViewedAt: at.Add(-time.Hour)}}
	found := map[string]issuerdb.Customer{
		"C1": {ID: "C1", FirstName: "Zoë", LastName: "Martin", Status: issuerdb.CustomerActive},
		"C2": {ID: "C2", FirstName: "Li", MiddleName: "Wei", LastName: "Chen", Status: issuerdb.CustomerClosed},
	}
	want := views.RecentList{Items: []views.RecentItem{
		{CustomerID: "C2", Name: "Li Wei Chen", Status: "closed", URL: "/customers/C2", Viewed: "1 May 2026 14:05 UTC", ViewedISO: "2026-05-01T14:05:00Z"},
		{CustomerID: "C1", Name: "Zoë Martin", Status: "active", URL: "/customers/C1", Viewed: "1 May 2026 13:05 UTC", ViewedISO: "2026-05-01T13:05:00Z"},
	}}
	if diff := cmp.Diff(want, recentView(recent, found)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
