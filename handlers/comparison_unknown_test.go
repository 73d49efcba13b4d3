package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"ctpdesk/audit"
)

// TestComparisonOfUnknownCustomerIsAudited: asking for the comparison, or a refresh, of an id
// no customer has is a failed comparison in the trail (reason not_found, no customer id: the
// id typed may be anything), and the answer is a 404.
func TestComparisonOfUnknownCustomerIsAudited(t *testing.T) {
	f := newTrailFixture(t, nil)
	for _, id := range []string{"CU99999999", url.PathEscape("jane.doe@example.com")} {
		if w := f.get(RoleAgent, "/customers/"+id+"/comparison", "HX-Request", "true"); w.Code != http.StatusNotFound {
			t.Errorf("comparison of %s: %d, want 404", id, w.Code)
		}
		if w := f.post(RoleFraud, "/customers/"+id+"/comparison/refresh", url.Values{}); w.Code != http.StatusNotFound {
			t.Errorf("refresh of %s: %d, want 404", id, w.Code)
		}
	}
	for _, action := range []audit.Action{audit.ActionComparison, audit.ActionRefresh} {
		evs := f.events(t, audit.Filter{Action: action})
		if len(evs) != 2 {
			t.Fatalf("%d %s events, want 2", len(evs), action)
		}
		for _, e := range evs {
			if e.Outcome != audit.Failure || e.CustomerID != "" || audit.FormatDetails(e.Details) != "reason=not_found" {
				t.Errorf("%s recorded as %s %q for %q", action, e.Outcome, audit.FormatDetails(e.Details), e.CustomerID)
			}
		}
	}
	// A known customer's comparison is still a success.
	if w := f.get(RoleAgent, "/customers/"+f.customer+"/comparison", "HX-Request", "true"); w.Code != http.StatusOK {
		t.Fatalf("comparison of %s: %d", f.customer, w.Code)
	}
	if evs := f.events(t, audit.Filter{Action: audit.ActionComparison}); evs[0].Outcome != audit.Success || evs[0].CustomerID != f.customer {
		t.Fatalf("known customer's comparison recorded as %+v", evs[0])
	}
}
