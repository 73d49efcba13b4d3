package views

import (
	"strings"
	"testing"
)

func TestDiffersInText(t *testing.T) {
	for _, tc := range []struct {
		parts []string
		want  string
	}{
		{[]string{"local-part"}, "in the part before @ (the domain is the same)"},
		{[]string{"domain"}, "in the domain"},
		{[]string{"local-part", "domain"}, "in the part before @ and the domain"},
		{[]string{"leading-digits"}, "in the hidden digits (the last four are the same)"},
		{[]string{"last-four-digits"}, "in the last four digits"},
		{[]string{"country-code", "leading-digits", "last-four-digits"}, "in the country code and in the number itself"},
		{nil, ""},
	} {
		if got := DiffersInText(tc.parts); got != tc.want {
			t.Errorf("DiffersInText(%v) = %q, want %q", tc.parts, got, tc.want)
		}
	}
}

func TestFindingSentence(t *testing.T) {
	for _, tc := range []struct {
		f    FindingFacts
		want string
	}{
		{FindingFacts{Kind: "card-blocked-but-enrolled", Directory: "VISA", Last4: "4613", IssuerStatus: "stolen"},
			"Card •••• 4613 is reported stolen at the issuer but still enrolled in Visa Click to Pay."},
		{FindingFacts{Kind: "card-unknown-to-issuer", Directory: "MASTERCARD", Last4: "0005"},
			"Card •••• 0005 is enrolled in Mastercard Click to Pay but unknown to the issuer."},
		{FindingFacts{Kind: "card-not-enrolled", Directory: "VISA", Last4: "1881"},
			"Card •••• 1881 is active at the issuer but not enrolled in Visa Click to Pay."},
		{FindingFacts{Kind: "field-differs", Directory: "VISA", FieldKind: "email", DiffersIn: []string{"domain"}},
			"Email differs between the issuer and Visa Click to Pay in the domain."},
		{FindingFacts{Kind: "field-differs", Directory: "VISA", FieldKind: "expiry", CardField: true, Last4: "4242"},
			"Card •••• 4242: expiry differs between the issuer and Visa Click to Pay."},
		{FindingFacts{Kind: "field-equivalent", Directory: "MASTERCARD", FieldKind: "billing.country", CardField: true, Last4: "5454", Reason: "country-code"},
			"Card •••• 5454: billing country in Mastercard Click to Pay differs from the issuer's only in the country code form (alpha-2 or alpha-3)."},
		{FindingFacts{Kind: "field-missing-at-issuer", Directory: "VISA", FieldKind: "middleName"},
			"Middle name is held by Visa Click to Pay but not by the issuer."},
		// A directory ctpdesk does not know is isolated inside the sentence.
		{FindingFacts{Kind: "field-missing-in-directory", Directory: "DISCOVER", FieldKind: "language"},
			"Language is held by the issuer but missing in \u2068DISCOVER\u2069 Click to Pay."},
	} {
		if got := FindingSentence(tc.f); got != tc.want {
			t.Errorf("FindingSentence(%+v)\n got %q\nwant %q", tc.f, got, tc.want)
		}
	}
}

func TestRiskNextStepsAndCaseSummary(t *testing.T) {
	for _, kind := range []string{"card-blocked-but-enrolled", "card-unknown-to-issuer", "email-and-phone-changed"} {
		if s := NextStep(kind, "VISA"); !strings.Contains(s, "issuer's D1 process") {
			t.Errorf("next step for %s = %q: it must name the issuer's D1 process", kind, s)
		}
	}
	got := CaseSummary(CaseFacts{CustomerID: "C1", ConsumerID: "cns_1", Directory: "VISA", CardKey: "crd_1", Last4: "4613",
		Kind: "card-blocked-but-enrolled", Severity: "risk", Finding: "Card •••• 4613 is reported stolen.", NextStep: "Next step: opt out.", CorrelationID: "corr-1"})
	want := "ctpdesk finding: card-blocked-but-enrolled (risk)\nCustomer id: C1\nD1 consumer id: cns_1\nDirectory: VISA\nCard id: crd_1 (•••• 4613)\n" +
		"Finding: Card •••• 4613 is reported stolen.\nD1 correlation id: corr-1\nNext step: opt out."
	if got != want {
		t.Errorf("case summary:\n%s\nwant:\n%s", got, want)
	}
}

func TestWordsForCountsAndTimes(t *testing.T) {
	if got := JoinNames([]string{"Visa", "Mastercard", "Discover"}, "and"); got != "Visa, Mastercard and Discover" {
		t.Errorf("JoinNames = %q", got)
	}
	for secs, want := range map[int64]string{-3: "0 seconds", 45: "45 seconds", 300: "5 minutes", 7300: "2 hours"} {
		if got := AgeText(secs); got != want {
			t.Errorf("AgeText(%d) = %q, want %q", secs, got, want)
		}
	}
	d, e, r := Counts(1, 0, 2)
	if d != "1 difference" || e != "0 equivalent values" || r != "2 risks" {
		t.Errorf("Counts = %q, %q, %q", d, e, r)
	}
	o := UnavailableOutcome([]string{"VISA"}, "circuit-open", "", "", true)
	if o.Title != "Visa could not be checked" || !strings.Contains(o.NextStep, "only the directories that answered") {
		t.Errorf("outcome with a directory checked = %+v", o)
	}
}
