package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ctpdesk/audit"
	"ctpdesk/d1"
)

// lastReveal returns the newest reveal event, failing unless there is exactly one more than
// before.
func lastReveal(t *testing.T, f *trailFixture, before int) audit.Event {
	t.Helper()
	evs := f.events(t, audit.Filter{Action: audit.ActionReveal})
	if len(evs) != before+1 {
		t.Fatalf("%d reveal events, want %d", len(evs), before+1)
	}
	return evs[0]
}

// TestRevealFailuresAreAudited: each way a reveal fails is a failed reveal in the trail, with
// its code, the inputs that passed their checks, and the customer id only once the record was
// found.
func TestRevealFailuresAreAudited(t *testing.T) {
	d1Down := revealProfiles(func(context.Context, string, d1.FetchOptions) (d1.Result, error) {
		return d1.Result{}, &d1.Error{Kind: d1.ErrUnavailable, Status: http.StatusBadGateway}
	})
	cases := []struct {
		name        string
		profiles    ProfileFetcher
		customer    string
		form        url.Values
		status      int
		want        string
		customer404 bool
	}{
		{"a field that cannot be revealed", nil, "CU00000003", revealForm("name", "issuer", "customer_verified", ""), http.StatusUnprocessableEntity,
			"failure=bad_input invalid=field reason=customer_verified source=issuer", true},
		{"an unknown source", nil, "CU00000003", revealForm("email", "visa; drop", "complaint", "CS-4711"), http.StatusUnprocessableEntity,
			"failure=bad_input field=email invalid=source reason=complaint reference=CS-4711", true},
		{"no reason", nil, "CU00000003", revealForm("phone", "VISA", "", ""), http.StatusUnprocessableEntity,
			"failure=bad_input field=phone invalid=reason source=VISA", true},
		{"a bad reference", nil, "CU00000003", revealForm("phone", "issuer", "fraud_case", "FRD-1"), http.StatusUnprocessableEntity,
			"failure=bad_input field=phone invalid=reference source=issuer", true},
		{"an unknown customer", nil, "CU99999999", revealForm("email", "issuer", "customer_verified", ""), http.StatusNotFound,
			"failure=unknown_customer field=email reason=customer_verified source=issuer", true},
		{"a directory without a profile", nil, "CU00000003", revealForm("email", "VISA", "fraud_case", "FRD-20417"), http.StatusNotFound,
			"failure=no_profile field=email reason=fraud_case reference=FRD-20417 source=VISA", false},
		{"D1 unavailable", d1Down, "CU00000003", revealForm("phone", "MASTERCARD", "customer_verified", ""), 0,
			"failure=lookup_failed field=phone reason=customer_verified source=MASTERCARD", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newTrailFixture(t, func(d *Deps) {
				if tc.profiles != nil {
					d.Profiles = tc.profiles
				}
			})
			w := f.post(RoleAgent, "/customers/"+tc.customer+"/reveal", tc.form)
			if w.Code == http.StatusOK || tc.status != 0 && w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			e := lastReveal(t, f, 0)
			wantCustomer := tc.customer
			if tc.customer404 {
				wantCustomer = ""
			}
			if e.Outcome != audit.Failure || audit.FormatDetails(e.Details) != tc.want || e.CustomerID != wantCustomer || e.Actor.Subject != "sub-agent" {
				t.Fatalf("recorded %s %q for customer %q by %q, want failure %q for %q", e.Outcome, audit.FormatDetails(e.Details),
					e.CustomerID, e.Actor.Subject, tc.want, wantCustomer)
			}
		})
	}
}

// TestRevealFailureUnrecordedIs503: a failed reveal whose event cannot be committed answers
// 503 like any access the trail cannot record.
func TestRevealFailureUnrecordedIs503(t *testing.T) {
	f := newTrailFixture(t, nil)
	f.trail.Close()
	for name, target := range map[string]string{"bad input": "/customers/" + f.customer + "/reveal", "unknown customer": "/customers/CU99999999/reveal"} {
		form := revealForm("email", "issuer", "customer_verified", "")
		if name == "bad input" {
			form.Set("reason", "curiosity")
		}
		if w := f.post(RoleAgent, target, form); w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s with the trail down: %d, want 503", name, w.Code)
		}
	}
}

// TestRevealHostileInputIsAuditedWithoutIt: whatever is sent in the address or the form, the
// failed reveal holds codes only: no customer id that was never found, no refused value, no
// free text; and the answer never sends markup back raw.
func TestRevealHostileInputIsAuditedWithoutIt(t *testing.T) {
	f := newTrailFixture(t, nil)
	hostile := []struct {
		name, id string
		form     url.Values
	}{
		{"an email as the customer id", url.PathEscape("jane.doe@example.com"), revealForm("email", "issuer", "customer_verified", "")},
		{"markup as the customer id", url.PathEscape(`<script>alert(1)</script>`), revealForm("email", "issuer", "customer_verified", "")},
		{"a phone number as the customer id", url.PathEscape("+44 7700 900123"), revealForm("phone", "issuer", "customer_verified", "")},
		{"a long customer id", strings.Repeat("C", 5000), revealForm("phone", "issuer", "customer_verified", "")},
		{"markup as the field", f.customer, revealForm(`<img src=x onerror=alert(1)>`, "issuer", "customer_verified", "")},
		{"an email as the source", f.customer, revealForm("email", "jane.doe@example.com", "customer_verified", "")},
		{"an email as the reason", f.customer, revealForm("email", "issuer", "jane.doe@example.com", "")},
		{"an email as the reference", f.customer, revealForm("email", "issuer", "other", "jane.doe@example.com")},
		{"a card number as the reference", f.customer, revealForm("email", "issuer", "fraud_case", "4111111111111111")},
		{"a NUL in the field", f.customer, revealForm("email\x00", "issuer", "customer_verified", "")},
	}
	for i, tc := range hostile {
		for _, hdr := range [][]string{nil, {"HX-Request", "true"}, {"Accept", "application/json"}} {
			w := f.post(RoleAgent, "/customers/"+tc.id+"/reveal", tc.form, hdr...)
			if w.Code == http.StatusOK || w.Code >= 500 {
				t.Errorf("%s %v: %d", tc.name, hdr, w.Code)
			}
			body := w.Body.String()
			// The refused form may show the agent's own reference back, escaped; markup never
			// comes back raw.
			for _, raw := range []string{"<script>", "<img"} {
				if strings.Contains(body, raw) {
					t.Errorf("%s %v: the answer echoes %q", tc.name, hdr, raw)
				}
			}
		}
		evs := f.events(t, audit.Filter{Action: audit.ActionReveal})
		if len(evs) != 3*(i+1) {
			t.Fatalf("%s: %d reveal events, want %d", tc.name, len(evs), 3*(i+1))
		}
		for _, e := range evs[:3] {
			got := audit.FormatDetails(e.Details)
			if e.Outcome != audit.Failure || e.CustomerID != "" || strings.ContainsAny(got, "@<+") ||
				strings.Contains(got, "4111") || strings.Contains(got, audit.RedactedValue) {
				t.Errorf("%s: recorded %s %q for customer %q", tc.name, e.Outcome, got, e.CustomerID)
			}
		}
	}
}
