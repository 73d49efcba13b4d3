package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/static"
)

// mustNew builds a Handler from d, filling each required dependency the test left out with a
// stand-in that fails the test when it is used: a test states what it relies on, and a route
// reaching a component the test did not expect to be touched is reported, not silently nil.
func mustNew(tb testing.TB, d Deps) *Handler {
	tb.Helper()
	return newWithStandIns(tb, d, unused{tb: tb, strict: true})
}

// mustNewPermissive is mustNew for tests that only look at what happens before a handler
// runs (the route guard): a stand-in that is reached answers with an error, quietly.
func mustNewPermissive(tb testing.TB, d Deps) *Handler {
	tb.Helper()
	return newWithStandIns(tb, d, unused{tb: tb})
}

func newWithStandIns(tb testing.TB, d Deps, u unused) *Handler {
	tb.Helper()
	if d.Assets == nil {
		assets, err := static.Load("/static")
		if err != nil {
			tb.Fatal(err)
		}
		d.Assets = assets
	}
	if d.Customers == nil {
		d.Customers = u
	}
	if d.SignIn == nil {
		d.SignIn = u
	}
	if d.Profiles == nil {
		d.Profiles = u
	}
	if d.Auditor == nil {
		d.Auditor = u
	}
	if d.AuditTrail == nil {
		d.AuditTrail = u
	}
	if d.Metrics == nil {
		d.Metrics = u
	}
	if d.RecentViews == nil {
		// Every empty search page asks for the list; tests about other things see none.
		d.RecentViews = noRecentViews{}
	}
	if d.RevealLimits == (RevealLimits{}) {
		d.RevealLimits = RevealLimits{PerMinute: 5, PerDay: 100}
	}
	if d.Scans == nil {
		d.Scans = unscanned{u}
	}
	h, err := New(d)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// noRecentViews is a trail in which the user has opened no customer yet.
type noRecentViews struct{}

func (noRecentViews) RecentCustomers(context.Context, string, string, int) ([]audit.RecentCustomer, error) {
	return []audit.RecentCustomer{}, nil
}

// unused stands in for every dependency a test does not expect to be called. Strict ones
// fail the test when called; every call answers errUnused.
type unused struct {
	tb     testing.TB
	strict bool
}

var errUnused = errors.New("handlers test: dependency not provided")

func (u unused) fail(what string) {
	u.tb.Helper()
	if u.strict {
		u.tb.Errorf("unexpected call to %s: the test gave the handler no such dependency", what)
	}
}

func (u unused) Search(context.Context, issuerdb.Query) (issuerdb.Page, error) {
	u.fail("Customers.Search")
	return issuerdb.Page{}, errUnused
}

func (u unused) Get(context.Context, string) (issuerdb.Customer, error) {
	u.fail("Customers.Get")
	return issuerdb.Customer{}, errUnused
}

// Available answers without failing: the sign-in page asks it just to draw itself.
func (u unused) Available() bool { return true }

func (u unused) BeginLogin(http.ResponseWriter, *http.Request, string) (string, error) {
	u.fail("SignIn.BeginLogin")
	return "", errUnused
}

func (u unused) FinishLogin(http.ResponseWriter, *http.Request, func(auth.User) error) (auth.User, string, error) {
	u.fail("SignIn.FinishLogin")
	return auth.User{}, "", errUnused
}

func (u unused) Logout(http.ResponseWriter, *http.Request) (string, auth.User, bool, error) {
	u.fail("SignIn.Logout")
	return "", auth.User{}, false, errUnused
}

func (u unused) GetProfiles(context.Context, string, d1.FetchOptions) (d1.Result, error) {
	u.fail("Profiles.GetProfiles")
	return d1.Result{}, errUnused
}

func (u unused) Record(context.Context, audit.Event) error {
	u.fail("Auditor.Record")
	return errUnused
}

func (u unused) Begin(context.Context, audit.Event) *audit.Receipt {
	u.fail("Auditor.Begin")
	return audit.Settled(errUnused)
}

func (u unused) Query(context.Context, audit.Filter) (audit.ResultPage, error) {
	u.fail("AuditTrail.Query")
	return audit.ResultPage{}, errUnused
}

func (u unused) ExportCSV(context.Context, io.Writer, audit.Filter) (int, error) {
	u.fail("AuditTrail.ExportCSV")
	return 0, errUnused
}

func (u unused) Status(context.Context) (audit.VerifyReport, error) {
	u.fail("AuditTrail.Status")
	return audit.VerifyReport{}, errUnused
}

func (u unused) NoteSignIn(context.Context, audit.Person) error {
	u.fail("AuditTrail.NoteSignIn")
	return nil
}

func (u unused) RecentActors(context.Context, int) ([]audit.Person, error) {
	u.fail("AuditTrail.RecentActors")
	return nil, errUnused
}

func (u unused) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	u.fail("Metrics")
	w.WriteHeader(http.StatusNotFound)
}

// testDBWait is how long the handler tests' session stores wait for their database: they
// check what the handlers do, not how fast a busy machine commits, so they allow far more
// than production's 500 ms.
const testDBWait = 30 * time.Second
