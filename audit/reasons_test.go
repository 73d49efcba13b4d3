package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCheckRevealReason(t *testing.T) {
	cases := []struct {
		reason, reference string
		want              error
	}{
		{"customer_verified", "", nil},
		{"fraud_case", "FRD-2041", nil},
		{"fraud_case", "FRD-123456789", nil},
		{"complaint", "CS-4711", nil},
		{"other", "OPSDEV-123456789", nil},
		{"customer_verified", "CS-4711", ErrReferenceNotTaken},
		{"fraud_case", "", ErrReferenceMissing},
		{"other", "", ErrReferenceMissing},
		{"fraud_case", "FRD-123", ErrReferenceFormat},
		{"fraud_case", "FRD-1234567890", ErrReferenceFormat},
		{"fraud_case", "frd-1234", ErrReferenceFormat},
		{"fraud_case", "CS-4711", ErrReferenceFormat},
		{"fraud_case", "FRD-١٢٣٤", ErrReferenceFormat},
		{"complaint", "FRD-1234 ", ErrReferenceFormat},
		{"complaint", "CS-4711\nJane", ErrReferenceFormat},
		{"complaint", "C-1", ErrReferenceFormat},
		{"complaint", "ＣＳ-4711", ErrReferenceFormat},
		{"other", "Jane Doe called from 12 Rue de Rivoli Paris", ErrReferenceFormat},
		{"dispute", "", ErrUnknownReason},
		{"", "", ErrUnknownReason},
		{"Other", "CS-1", ErrUnknownReason},
	}
	for _, tc := range cases {
		if err := CheckRevealReason(tc.reason, tc.reference); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckRevealReason(%q, %q) = %v, want %v", tc.reason, tc.reference, err, tc.want)
		}
	}
	if len(RevealReasons()) != len(revealReferences) {
		t.Errorf("RevealReasons lists %d reasons, the table holds %d", len(RevealReasons()), len(revealReferences))
	}
	// The longest references accepted are never taken for personal data and redacted, and
	// fit the form's limit.
	for _, longest := range []string{"FRD-" + strings.Repeat("9", 9), "ABCDEF-" + strings.Repeat("9", 9)} {
		if CheckRevealReason("other", longest) != nil && CheckRevealReason("fraud_case", longest) != nil {
			t.Errorf("%s is accepted by no reason", longest)
		}
		if LooksPersonal(longest) || len(longest) > MaxRevealReference {
			t.Errorf("%s would be redacted or is longer than MaxRevealReference", longest)
		}
	}
}

// TestTrailRefusesFreeTextRevealReasons: whatever a caller checked, a reveal event carries a
// reason code and, where the reason needs one, a reference of its format; nothing else. A failed
// reveal carries a failure code, and only the details that go with that code.
func TestTrailRefusesFreeTextRevealReasons(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	reveal := func(outcome Outcome, details map[string]string) Event {
		e := sampleEvent(1)
		e.Action, e.Outcome = ActionReveal, outcome
		e.Details = map[string]string{"field": "phone", "source": "issuer"}
		for k, v := range details {
			e.Details[k] = v
		}
		return e
	}
	refused := map[string]Event{
		"free text":                        reveal(Success, map[string]string{"reason": "other", "reason_text": "Jane Doe called from 12 Rue de Rivoli"}),
		"free text reference":              reveal(Success, map[string]string{"reason": "other", "reference": "Jane Doe, 12 Rue de Rivoli"}),
		"unknown reason":                   reveal(Success, map[string]string{"reason": "curiosity"}),
		"no reason":                        reveal(Success, nil),
		"reference alone":                  reveal(Failure, map[string]string{"reference": "CS-1"}),
		"empty reference":                  reveal(Success, map[string]string{"reason": "customer_verified", "reference": ""}),
		"reference not taken":              reveal(Success, map[string]string{"reason": "customer_verified", "reference": "CS-1"}),
		"failure without a code":           reveal(Failure, nil),
		"unknown failure code":             reveal(Failure, map[string]string{"failure": "Jane Doe typed a bad id"}),
		"a success that failed":            reveal(Success, map[string]string{"reason": "customer_verified", "failure": "no_profile"}),
		"invalid input on another failure": reveal(Failure, map[string]string{"failure": "no_profile", "invalid": "reason"}),
		"invalid input that is no field":   reveal(Failure, map[string]string{"failure": "bad_input", "invalid": "name"}),
		"a limit on another failure":       reveal(Failure, map[string]string{"failure": "unknown_customer", "limit": "5/60s"}),
		"a free-text reason on a failure":  reveal(Failure, map[string]string{"failure": "bad_input", "reason": "curiosity"}),
		"a reason without its reference":   reveal(Failure, map[string]string{"failure": "bad_input", "invalid": "reference", "reason": "fraud_case"}),
	}
	for name, e := range refused {
		if err := tr.Record(context.Background(), e); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: Record = %v, want ErrInvalidEvent", name, err)
		}
	}
	for name, e := range map[string]Event{
		"verified call":    reveal(Success, map[string]string{"reason": "customer_verified"}),
		"fraud case":       reveal(Success, map[string]string{"reason": "fraud_case", "reference": "FRD-20417"}),
		"bad input":        reveal(Failure, map[string]string{"failure": "bad_input", "invalid": "source", "reason": "fraud_case", "reference": "FRD-2041"}),
		"no profile":       reveal(Failure, map[string]string{"failure": "no_profile", "reason": "complaint", "reference": "CS-4711"}),
		"rate limited":     reveal(Failure, map[string]string{"failure": "rate_limited", "limit": "5/60s", "reason": "customer_verified"}),
		"unknown customer": reveal(Failure, map[string]string{"failure": "unknown_customer"}),
		"lookup failed":    reveal(Failure, map[string]string{"failure": "lookup_failed"}),
	} {
		if err := tr.Record(context.Background(), e); err != nil {
			t.Errorf("%s: Record = %v", name, err)
		}
	}
	if n := mustCount(t, tr.db); n != 7 {
		t.Fatalf("%d events stored, want the 7 accepted reveals", n)
	}
}

// TestTrailChecksRevealSources: a reveal names every source it showed the field from, as a
// list of distinct source names that includes the control's own source, and is stored whole.
// Only a reveal that showed something, or that its limit refused, names sources, and a reveal
// carries no detail beyond the ones the trail knows.
func TestTrailChecksRevealSources(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	reveal := func(outcome Outcome, details map[string]string) Event {
		e := sampleEvent(1)
		e.Action, e.Outcome = ActionReveal, outcome
		e.Details = map[string]string{DetailField: "email", DetailSource: "issuer"}
		if outcome == Success {
			e.Details[DetailReason] = string(ReasonCustomerVerified)
		}
		for k, v := range details {
			e.Details[k] = v
		}
		return e
	}
	many := make([]string, maxRevealSources+1)
	for i := range many {
		many[i] = fmt.Sprintf("DIR%d", i)
	}
	// Few enough sources, but too long a list to store without cutting it.
	long := []string{"issuer"}
	for i := range 16 {
		long = append(long, fmt.Sprintf("D%0*d", maxSourceName-1, i))
	}
	refused := map[string]Event{
		"an unknown detail":           reveal(Success, map[string]string{"value": "jane.doe@example.com"}),
		"an unknown detail on a fail": reveal(Failure, map[string]string{DetailFailure: "lookup_failed", "email": "x"}),
		"empty sources":               reveal(Success, map[string]string{DetailSources: ""}),
		"an empty source among them":  reveal(Success, map[string]string{DetailSources: "issuer,,VISA"}),
		"a space after the comma":     reveal(Success, map[string]string{DetailSources: "issuer, VISA"}),
		"a value as a source":         reveal(Success, map[string]string{DetailSources: "issuer,jane.doe@example.com"}),
		"markup as a source":          reveal(Success, map[string]string{DetailSources: "issuer,<b>"}),
		"a repeated source":           reveal(Success, map[string]string{DetailSources: "issuer,VISA,issuer"}),
		"without its own source":      reveal(Success, map[string]string{DetailSources: "VISA,MASTERCARD"}),
		"a source name too long":      reveal(Success, map[string]string{DetailSources: "issuer," + strings.Repeat("V", maxSourceName+1)}),
		"too many sources":            reveal(Success, map[string]string{DetailSources: "issuer," + strings.Join(many, ",")}),
		"too long a list":             reveal(Success, map[string]string{DetailSources: strings.Join(long, ",")}),
		"sources of a bad input":      reveal(Failure, map[string]string{DetailFailure: "bad_input", DetailInvalid: "reason", DetailSources: "issuer"}),
		"sources of a failed lookup":  reveal(Failure, map[string]string{DetailFailure: "lookup_failed", DetailSources: "issuer"}),
		"sources without a code":      reveal(Failure, map[string]string{DetailSources: "issuer"}),
	}
	for name, e := range refused {
		if err := tr.Record(context.Background(), e); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: Record = %v, want ErrInvalidEvent", name, err)
		}
	}
	if n := mustCount(t, tr.db); n != 0 {
		t.Fatalf("%d events stored from refused sources", n)
	}
	accepted := []Event{
		reveal(Success, map[string]string{DetailSources: "issuer"}),
		reveal(Success, map[string]string{DetailSources: "issuer,VISA,MASTERCARD"}),
		reveal(Success, map[string]string{DetailSource: "VISA", DetailSources: "VISA,issuer"}),
		reveal(Success, map[string]string{DetailSources: strings.Join(append([]string{"issuer"}, many[:maxRevealSources-1]...), ",")}),
		reveal(Failure, map[string]string{DetailFailure: "rate_limited", DetailLimit: "5/60s", DetailReason: "customer_verified", DetailSources: "issuer,VISA"}),
		// Sources are optional: a reveal of one place names its source alone.
		reveal(Success, nil),
	}
	for i, e := range accepted {
		if err := tr.Record(context.Background(), e); err != nil {
			t.Fatalf("accepted[%d]: Record = %v", i, err)
		}
	}
	page, err := tr.Query(context.Background(), Filter{Action: ActionReveal})
	if err != nil {
		t.Fatal(err)
	}
	evs := page.Events
	if len(evs) != len(accepted) {
		t.Fatalf("%d reveals stored, want %d", len(evs), len(accepted))
	}
	// Events come back newest first; each list is stored as it was given, never cut.
	for i, e := range evs {
		if want := accepted[len(accepted)-1-i].Details[DetailSources]; e.Details[DetailSources] != want {
			t.Errorf("stored sources %q, want %q", e.Details[DetailSources], want)
		}
	}
}
