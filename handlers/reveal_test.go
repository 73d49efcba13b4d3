package handlers

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"ctpdesk/audit"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"
)

// revealProfiles is a ProfileFetcher made of a function.
type revealProfiles func(ctx context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error)

func (f revealProfiles) GetProfiles(ctx context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error) {
	return f(ctx, consumerID, opt)
}

func mustCustomer(t *testing.T, f *trailFixture) issuerdb.Customer {
	t.Helper()
	c, err := f.issuer.Get(context.Background(), f.customer)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone == "" || c.Email == "" {
		t.Fatalf("customer %s has no phone or email to reveal", c.ID)
	}
	return c
}

func revealForm(field, source, reason, reference string) url.Values {
	return url.Values{"field": {field}, "source": {source}, "reason": {reason}, "reference": {reference}, "masked": {"+44 •••• ••0123"}}
}

func TestRevealIssuerPhone(t *testing.T) {
	f := newTrailFixture(t, nil)
	cust := mustCustomer(t, f)
	w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("phone", "issuer", "customer_verified", ""), "HX-Request", "true")
	if w.Code != http.StatusOK {
		t.Fatalf("reveal: %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("a revealed value may be cached")
	}
	doc := mustDoc(t, w)
	if got := doc.Find(`[data-testid="revealed-value"]`).Text(); got != cust.Phone {
		t.Fatalf("revealed %q, want %q", got, cust.Phone)
	}
	if doc.Find("html").Length() != 0 && strings.Contains(w.Body.String(), "<html") {
		t.Error("an htmx reveal answered a whole page")
	}
	evs := f.events(t, audit.Filter{Action: audit.ActionReveal})
	if len(evs) != 1 {
		t.Fatalf("%d reveal events, want 1", len(evs))
	}
	want := map[string]string{"field": "phone", "source": "issuer", "reason": "customer_verified", "sources": "issuer"}
	e := evs[0]
	if e.CustomerID != f.customer || e.Actor.Subject != "sub-agent" || e.Outcome != audit.Success || len(e.Details) != 4 ||
		e.Details["field"] != want["field"] || e.Details["source"] != want["source"] || e.Details["reason"] != want["reason"] ||
		e.Details["sources"] != want["sources"] {
		t.Fatalf("reveal event = %+v", e)
	}
}

// TestRevealOneReasonEverywhere checks that one reveal, with one reason, shows the field in
// every place of the page that showed it masked: the control used is answered in place and the
// others out of band, and the one audit event names every source revealed.
func TestRevealOneReasonEverywhere(t *testing.T) {
	profiles := revealProfiles(func(context.Context, string, d1.FetchOptions) (d1.Result, error) {
		return d1.Result{Profiles: []d1.Profile{{Directory: "VISA", Consumer: d1.Consumer{Emails: []string{"v.one@example.test"}}}}}, nil
	})
	f := newTrailFixture(t, func(d *Deps) { d.Profiles = profiles })
	cust := mustCustomer(t, f)
	form := revealForm("email", "issuer", "customer_verified", "")
	form.Set("place", "record")
	// The page's controls: the one used, the issuer and Visa cells of the comparison, a
	// directory without a profile, and values that are not controls at all.
	form["peer"] = []string{"record:issuer", "comparison:issuer", "comparison:VISA", "comparison:MASTERCARD", `x"><y:issuer`, "comparison:<b>", "nocolon"}
	w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form, "HX-Request", "true")
	if w.Code != http.StatusOK {
		t.Fatalf("reveal: %d %s", w.Code, w.Body)
	}
	doc := mustDoc(t, w)
	type place struct{ ID, OOB, Value string }
	var got []place
	doc.Find(`[data-testid="revealed"]`).Each(func(_ int, s *goquery.Selection) {
		got = append(got, place{s.AttrOr("id", ""), s.AttrOr("hx-swap-oob", ""), s.Find(`[data-testid="revealed-value"]`).Text()})
	})
	want := []place{
		{"reveal-record-issuer-email", "", cust.Email},
		{"reveal-comparison-issuer-email", "outerHTML", cust.Email},
		{"reveal-comparison-visa-email", "outerHTML", "v.one@example.test"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("revealed places (-want +got):\n%s", diff)
	}
	evs := f.events(t, audit.Filter{Action: audit.ActionReveal})
	if len(evs) != 1 || evs[0].Details["sources"] != "issuer,VISA" || evs[0].Details["source"] != "issuer" {
		t.Fatalf("reveal events = %+v, want one naming the sources issuer and VISA", evs)
	}
}

// TestRevealReasonNeedsItsReference: a reason that needs a case or ticket id is refused
// without one, with the form back, the choice kept and the reference marked; with one, the
// code and the id are what the trail records.
func TestRevealReasonNeedsItsReference(t *testing.T) {
	f := newTrailFixture(t, nil)
	cust := mustCustomer(t, f)
	form := revealForm("email", "issuer", "other", "  ")
	form.Set("place", "record")
	w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form, "HX-Request", "true")
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("other without a ticket: %d", w.Code)
	}
	doc := mustDoc(t, w)
	if id, _ := doc.Find(`[data-testid="reveal-field"]`).Attr("id"); id != "reveal-record-issuer-email" {
		t.Errorf("the refused control came back as #%s, not under the id htmx swaps", id)
	}
	if got := doc.Find(`[data-testid="reveal-error"]`).Text(); got != revealNoTicket {
		t.Errorf("error %q, want %q", got, revealNoTicket)
	}
	if _, selected := doc.Find(`[data-testid="reveal-reason-other"]`).Attr("selected"); !selected {
		t.Errorf("the chosen reason is not kept")
	}
	if v, _ := doc.Find(`[data-testid="reveal-reference"]`).Attr("aria-invalid"); v != "true" {
		t.Errorf("the reference is not marked as the field in error")
	}
	if _, open := doc.Find("details.reveal").Attr("open"); !open {
		t.Errorf("the refused form is folded away")
	}
	if strings.Contains(w.Body.String(), cust.Email) {
		t.Fatal("a refused reveal shows the value")
	}
	refused := f.events(t, audit.Filter{Action: audit.ActionReveal})
	if len(refused) != 1 || refused[0].Outcome != audit.Failure ||
		audit.FormatDetails(refused[0].Details) != "failure=bad_input field=email invalid=reference source=issuer" {
		t.Fatalf("reveal events for a refused form: %+v", refused)
	}

	for _, ok := range []struct{ reason, reference string }{{"other", "OPS-88"}, {"complaint", " CS-4711 "}, {"fraud_case", "FRD-20417"}} {
		w = f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("email", "issuer", ok.reason, ok.reference))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), cust.Email) {
			t.Fatalf("%s with %q: %d", ok.reason, ok.reference, w.Code)
		}
	}
	evs := f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Success})
	var got []string
	for _, e := range evs {
		got = append(got, audit.FormatDetails(e.Details))
	}
	want := []string{
		"field=email reason=fraud_case reference=FRD-20417 source=issuer sources=issuer",
		"field=email reason=complaint reference=CS-4711 source=issuer sources=issuer",
		"field=email reason=other reference=OPS-88 source=issuer sources=issuer",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reveal details:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRevealRefusesHostileReasons: free text, an over-long or misshapen reference and an
// unknown code each get a clear message, reveal nothing and record nothing.
func TestRevealRefusesHostileReasons(t *testing.T) {
	f := newTrailFixture(t, nil)
	cust := mustCustomer(t, f)
	cases := []struct {
		name, reason, reference string
		want                    string
	}{
		{"free text as the reference", "other", "Jane Doe called from 12 Rue de Rivoli Paris", revealLongReference},
		{"short free text", "complaint", "Jane Doe", revealBadTicket},
		{"free text with a fraud case", "fraud_case", "FRD-2041 Jane", revealBadFraudCase},
		{"a reference on a verified call", "customer_verified", "called back", revealNoReference},
		{"too long", "fraud_case", "FRD-" + strings.Repeat("1", 40), revealLongReference},
		{"ten digits", "fraud_case", "FRD-0612345678", revealBadFraudCase},
		{"lower case", "fraud_case", "frd-20417", revealBadFraudCase},
		{"too few digits", "fraud_case", "FRD-204", revealBadFraudCase},
		{"a ticket as a fraud case", "fraud_case", "CS-4711", revealBadFraudCase},
		{"no dash", "complaint", "CS4711", revealBadTicket},
		{"fullwidth letters", "complaint", "ＣＳ-4711", revealBadTicket},
		{"a line break", "other", "CS-4711\nJane", revealBadTicket},
		{"a control character", "other", "CS-47\x0011", revealBadTicket},
		{"bad UTF-8", "other", "\xff\xfe", revealBadTicket},
		{"no fraud case id", "fraud_case", "", revealNoFraudCase},
		{"unknown code", "curiosity", "", revealNoReason},
		{"an old code", "dispute", "", revealNoReason},
		{"no code", "", "CS-4711", revealNoReason},
		{"a label instead of a code", "Other (ticket id)", "CS-4711", revealNoReason},
	}
	for _, tc := range cases {
		for _, htmx := range []bool{false, true} {
			var hdr []string
			if htmx {
				hdr = []string{"HX-Request", "true"}
			}
			form := revealForm("email", "issuer", tc.reason, tc.reference)
			w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form, hdr...)
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s (htmx %v): %d, want 422", tc.name, htmx, w.Code)
				continue
			}
			body := w.Body.String()
			if strings.Contains(body, cust.Email) || strings.Contains(body, cust.Phone) {
				t.Errorf("%s: the refusal shows contact data", tc.name)
			}
			if htmx {
				if got := mustDoc(t, w).Find(`[data-testid="reveal-error"]`).Text(); got != tc.want {
					t.Errorf("%s: error %q, want %q", tc.name, got, tc.want)
				}
			} else if !strings.Contains(body, html.EscapeString(tc.want)) {
				t.Errorf("%s: the answer does not say %q:\n%s", tc.name, tc.want, body)
			}
		}
	}
	// Free text sent under the old field name changes nothing: it is not read at all.
	form := revealForm("email", "issuer", "customer_verified", "")
	form.Set("reason_text", "Jane Doe called from 12 Rue de Rivoli Paris")
	if w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form); w.Code != http.StatusOK {
		t.Fatalf("a verified call with a stray reason_text: %d", w.Code)
	}
	evs := f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Success})
	if len(evs) != 1 || audit.FormatDetails(evs[0].Details) != "field=email reason=customer_verified source=issuer sources=issuer" {
		t.Fatalf("reveal events after the hostile forms: %+v", evs)
	}
	// Each refusal is a failed reveal naming the refused input, never the text that was sent.
	failed := f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Failure})
	if len(failed) != 2*len(cases) {
		t.Fatalf("%d failed reveals recorded, want %d", len(failed), 2*len(cases))
	}
	for _, e := range failed {
		got := audit.FormatDetails(e.Details)
		if e.CustomerID != "" || !strings.HasPrefix(got, "failure=bad_input field=email invalid=re") || strings.Contains(got, "Jane") {
			t.Errorf("failed reveal recorded as %q for customer %q", got, e.CustomerID)
		}
	}
}

func TestRevealRefusesBadInput(t *testing.T) {
	f := newTrailFixture(t, nil)
	cust := mustCustomer(t, f)
	cases := map[string]url.Values{
		"unknown field":  revealForm("name", "issuer", "customer_verified", ""),
		"card field":     revealForm("card:1:pan", "issuer", "customer_verified", ""),
		"bad source":     revealForm("email", "visa; drop", "customer_verified", ""),
		"no reason":      revealForm("email", "issuer", "", ""),
		"unknown reason": revealForm("email", "issuer", "curiosity", ""),
	}
	for name, form := range cases {
		for _, htmx := range []bool{false, true} {
			var hdr []string
			if htmx {
				hdr = []string{"HX-Request", "true"}
			}
			w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form, hdr...)
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s (htmx %v): %d, want 422", name, htmx, w.Code)
			}
			if strings.Contains(w.Body.String(), cust.Email) || strings.Contains(w.Body.String(), cust.Phone) {
				t.Errorf("%s: the refusal shows contact data", name)
			}
		}
	}
	if w := f.post(RoleAgent, "/customers/CU99999999/reveal", revealForm("email", "issuer", "customer_verified", "")); w.Code != http.StatusNotFound {
		t.Errorf("unknown customer: %d, want 404", w.Code)
	}
	if w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("email", "VISA", "customer_verified", "")); w.Code != http.StatusNotFound {
		t.Errorf("directory with no profile: %d, want 404", w.Code)
	}
	if n := len(f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Success})); n != 0 {
		t.Fatalf("%d successful reveals for refused requests", n)
	}
	if n := len(f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Failure})); n != 2*len(cases)+2 {
		t.Fatalf("%d failed reveals for %d refused requests", n, 2*len(cases)+2)
	}
}

func TestRevealNeedsCSRFAndTheAgentRole(t *testing.T) {
	f := newTrailFixture(t, nil)
	cust := mustCustomer(t, f)
	form := revealForm("phone", "issuer", "customer_verified", "")
	form.Set("_csrf", "forged")
	if w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), cust.Phone) {
		t.Errorf("forged CSRF token: %d", w.Code)
	}
	form.Set("_csrf", f.tokens[RoleFraud])
	if w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", form); w.Code != http.StatusForbidden {
		t.Errorf("another session's CSRF token: %d", w.Code)
	}
	for _, who := range []string{RoleFraud, RoleAuditor, "anonymous"} {
		w := f.post(who, "/customers/"+f.customer+"/reveal", revealForm("phone", "issuer", "customer_verified", ""))
		if w.Code == http.StatusOK || strings.Contains(w.Body.String(), cust.Phone) {
			t.Errorf("%s reached the reveal: %d", who, w.Code)
		}
	}
	if n := len(f.events(t, audit.Filter{Action: audit.ActionReveal})); n != 0 {
		t.Fatalf("%d reveal events for refused requests", n)
	}
}

// TestRevealFailsClosed: when the event cannot be committed the value is not sent.
func TestRevealFailsClosed(t *testing.T) {
	f := newTrailFixture(t, nil)
	cust := mustCustomer(t, f)
	f.trail.Close()
	for _, hdr := range [][]string{nil, {"HX-Request", "true"}, {"Accept", "application/json"}} {
		w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("phone", "issuer", "customer_verified", ""), hdr...)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%v: status %d, want 503", hdr, w.Code)
		}
		for _, secret := range []string{cust.Phone, cust.Email, cust.LastName} {
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("%v: the 503 answer holds customer data %q", hdr, secret)
			}
		}
	}
}

func TestRevealDirectoryValues(t *testing.T) {
	var asked string
	profiles := revealProfiles(func(_ context.Context, consumerID string, _ d1.FetchOptions) (d1.Result, error) {
		asked = consumerID
		return d1.Result{Profiles: []d1.Profile{{
			Directory: "VISA",
			Consumer: d1.Consumer{Emails: []string{"a.one@example.test", "a.two@example.test"},
				Phones: []d1.Phone{{CountryCode: "44", Number: "7700900123"}}},
		}}}, nil
	})
	f := newTrailFixture(t, func(d *Deps) { d.Profiles = profiles })
	cust := mustCustomer(t, f)
	w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("email", "VISA", "fraud_case", "FRD-20417"), "HX-Request", "true")
	if w.Code != http.StatusOK {
		t.Fatalf("directory reveal: %d %s", w.Code, w.Body)
	}
	var got []string
	mustDoc(t, w).Find(`[data-testid="revealed-value"]`).Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
	if strings.Join(got, ",") != "a.one@example.test,a.two@example.test" || asked != cust.ConsumerID {
		t.Fatalf("revealed %v for consumer %q", got, asked)
	}
	w = f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("phone", "VISA", "fraud_case", "FRD-20417"), "Accept", "application/json")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"+44 7700900123"`) {
		t.Fatalf("directory phone as JSON: %d %s", w.Code, w.Body)
	}
	if w := f.post(RoleAgent, "/customers/"+f.customer+"/reveal", revealForm("email", "MASTERCARD", "customer_verified", "")); w.Code != http.StatusNotFound {
		t.Errorf("a directory without a profile: %d, want 404", w.Code)
	}
	evs := f.events(t, audit.Filter{Action: audit.ActionReveal, Outcome: audit.Success})
	if len(evs) != 2 || evs[1].Details["source"] != "VISA" || evs[1].Details["field"] != "email" {
		t.Fatalf("reveal events = %+v", evs)
	}
}

func TestRevealFormIDs(t *testing.T) {
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	for _, tc := range []struct{ place, source, field, want string }{
		{"record", "issuer", "phone", "reveal-record-issuer-phone"},
		{"comparison", "VISA", "email", "reveal-comparison-visa-email"},
		{`"><x`, "issuer", "email", "reveal-page-issuer-email"},
	} {
		if got := RevealForm(c, tc.place, "CU1", tc.source, tc.field, "m").ID; got != tc.want {
			t.Errorf("RevealForm(%q, %q, %q).ID = %q, want %q", tc.place, tc.source, tc.field, got, tc.want)
		}
	}
}
