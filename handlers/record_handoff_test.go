package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/issuerdb"
)

// countingCustomers serves one customer, whose first name the test may change, and counts
// the reads.
type countingCustomers struct {
	mu    sync.Mutex
	cust  issuerdb.Customer
	reads int
}

func (f *countingCustomers) Search(context.Context, issuerdb.Query) (issuerdb.Page, error) {
	return issuerdb.Page{}, nil
}

func (f *countingCustomers) Get(_ context.Context, id string) (issuerdb.Customer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if id != f.cust.ID {
		return issuerdb.Customer{}, issuerdb.ErrNotFound
	}
	c := f.cust
	c.Cards = append([]issuerdb.Card(nil), f.cust.Cards...)
	return c, nil
}

func (f *countingCustomers) rename(first string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cust.FirstName = first
}

func (f *countingCustomers) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// One customer view (the page, then the comparison it loads) reads the issuer record once,
// and the comparison compares the very record its page showed. Whatever else asks for a
// comparison reads the issuer database: a second load, another person, "Refresh from D1", a
// page read too long ago, a JSON page (no comparison follows it).
func TestCustomerViewReadsTheRecordOnce(t *testing.T) {
	now := viewNow
	cust := &countingCustomers{cust: viewCustomer()}
	s := newComparisonServerFor(t, viewCustomer(), func() time.Time { return now }, okProfiles, func(d *Deps) { d.Customers = cust })
	page := "/customers/" + cust.cust.ID
	fragment := page + "/comparison"
	step := func(name string, method, target, role string, wantReads int, headers ...string) string {
		t.Helper()
		before := cust.readCount()
		rec := s.do(method, target, role, headers...)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", name, rec.Code)
		}
		if got := cust.readCount() - before; got != wantReads {
			t.Errorf("%s: %d reads of the issuer record, want %d", name, got, wantReads)
		}
		return rec.Body.String()
	}
	original := cust.cust.FirstName

	step("page", http.MethodGet, page, "agent", 1)
	// The record changes between the page and its comparison: the comparison still shows what
	// the page did, so the two halves of the screen agree.
	cust.rename("Renamed")
	if body := step("its comparison", http.MethodGet, fragment, "agent", 0, "HX-Request", "true"); !strings.Contains(body, original) || strings.Contains(body, "Renamed") {
		t.Errorf("the comparison does not compare the record its page showed (%q)", original)
	}
	if body := step("the comparison again", http.MethodGet, fragment, "agent", 1, "HX-Request", "true"); !strings.Contains(body, "Renamed") {
		t.Error("a second load of the comparison did not read the record again")
	}

	step("page", http.MethodGet, page, "agent", 1)
	step("another person's comparison", http.MethodGet, fragment, "fraud", 1, "HX-Request", "true")
	step("the page viewer's refresh", http.MethodPost, fragment+"/refresh", "agent", 1, "HX-Request", "true")

	step("page", http.MethodGet, page, "agent", 1)
	now = now.Add(handoffTTL)
	step("a comparison long after its page", http.MethodGet, fragment, "agent", 1, "HX-Request", "true")

	step("the JSON twin of the page", http.MethodGet, page, "agent", 1, "Accept", "application/json")
	step("a comparison after the JSON twin", http.MethodGet, fragment, "agent", 1, "HX-Request", "true")
}

// The handoff holds a bounded number of records, dropping stale ones first.
func TestRecordHandoffIsBounded(t *testing.T) {
	r := newRecordHandoff()
	now := viewNow
	r.put("old", issuerdb.Customer{ID: "stale"}, now.Add(-handoffTTL))
	for i := range handoffMax + 10 {
		r.put("v", issuerdb.Customer{ID: issuerdb.CustomerID(i)}, now)
		if len(r.entries) > handoffMax {
			t.Fatalf("%d records kept, bound %d", len(r.entries), handoffMax)
		}
	}
	if _, ok := r.entries[handoffKey{"old", "stale"}]; ok {
		t.Error("a stale record outlived fresh ones")
	}
	last := issuerdb.CustomerID(handoffMax + 9)
	if _, ok := r.take("v", last, now); !ok {
		t.Error("the newest record was pushed out")
	}
	if _, ok := r.take("v", last, now); ok {
		t.Error("a record was handed over twice")
	}
}
