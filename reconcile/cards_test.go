package reconcile

import (
	"testing"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"github.com/google/go-cmp/cmp"
)

func TestCompareCardMatching(t *testing.T) {
	rec := testCustomer()
	res := mirrorResult(rec)
	// Visa knows the card under another id: last 4 and expiry still join it.
	res.Profiles[0].Cards[0].ID = "crd_visa_reissued_id"
	// Mastercard holds a card the issuer never issued.
	res.Profiles[1].Cards = append(res.Profiles[1].Cards, d1.Card{ID: "crd_foreign", Last4: "0005", Expiry: "0329", Status: "ACTIVE"})
	got := Compare(rec, res, Options{Now: testNow})

	want := []CardRow{
		{Key: "crd_visa_1", Last4: "4242", Scheme: "VISA", AtIssuer: true, IssuerStatus: "active", IssuerExpiry: "0828", Directories: []CardCell{
			{Directory: "VISA", Relevant: true, Available: true, Present: true, Status: "ACTIVE", Expiry: "0828", MatchedBy: "last4+expiry"},
			{Directory: "MASTERCARD", Available: true},
		}},
		{Key: "crd_mc_1", Last4: "5454", Scheme: "MASTERCARD", AtIssuer: true, IssuerStatus: "active", IssuerExpiry: "0127", Directories: []CardCell{
			{Directory: "VISA", Available: true},
			{Directory: "MASTERCARD", Relevant: true, Available: true, Present: true, Status: "ACTIVE", Expiry: "0127", MatchedBy: "id"},
		}},
		{Key: "crd_foreign", Last4: "0005", Scheme: "MASTERCARD", Directories: []CardCell{
			{Directory: "VISA", Available: true},
			{Directory: "MASTERCARD", Relevant: true, Available: true, Present: true, Status: "ACTIVE", Expiry: "0329"},
		}},
	}
	if diff := cmp.Diff(want, got.Cards); diff != "" {
		t.Errorf("card matrix (-want +got):\n%s", diff)
	}
	if c := mustCell(t, got, "card:crd_foreign:expiry", "MASTERCARD"); c.Verdict != MissingAtIssuer {
		t.Errorf("foreign card expiry = %s, want missing-at-issuer", c.Verdict)
	}
	if c := mustCell(t, got, "card:crd_foreign:expiry", "VISA"); c.Verdict != NotApplicable {
		t.Errorf("foreign Mastercard card in Visa = %s, want not-applicable", c.Verdict)
	}
	if len(got.Findings) == 0 || got.Findings[0].Message != "Card •••• 0005 is enrolled in Mastercard Click to Pay but unknown to the issuer." {
		t.Errorf("findings = %+v, want the unknown card first", got.Findings)
	}
}

func TestCompareCardRisks(t *testing.T) {
	tests := []struct {
		status  issuerdb.CardStatus
		risk    bool
		message string
	}{
		{issuerdb.CardStolen, true, "Card •••• 5454 is reported stolen at the issuer but still enrolled in Mastercard Click to Pay."},
		{issuerdb.CardLost, true, "Card •••• 5454 is reported lost at the issuer but still enrolled in Mastercard Click to Pay."},
		{issuerdb.CardBlocked, true, "Card •••• 5454 is blocked at the issuer but still enrolled in Mastercard Click to Pay."},
		{issuerdb.CardClosed, true, "Card •••• 5454 is closed at the issuer but still enrolled in Mastercard Click to Pay."},
		{issuerdb.CardExpired, false, ""},
		{issuerdb.CardActive, false, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			rec := testCustomer()
			rec.Cards[1].Status = tc.status
			got := Compare(rec, mirrorResult(rec), Options{Now: testNow})
			var risks []string
			for _, f := range got.Findings {
				if f.Severity == SeverityRisk {
					risks = append(risks, f.Message)
					if f.CardKey != "crd_mc_1" || f.Kind != KindCardBlockedButEnrolled {
						t.Errorf("risk %+v not about crd_mc_1", f)
					}
				}
			}
			var want []string
			if tc.risk {
				want = []string{tc.message}
			}
			if diff := cmp.Diff(want, risks); diff != "" {
				t.Errorf("risks (-want +got):\n%s", diff)
			}
			// The status row still says what differs.
			if c := mustCell(t, got, "card:crd_mc_1:status", "MASTERCARD"); tc.status != issuerdb.CardActive && c.Verdict == Match {
				t.Errorf("status cell = match for %s against ACTIVE", tc.status)
			}
		})
	}
}

func TestCompareBlockedCardMirroredIsNoRisk(t *testing.T) {
	rec := testCustomer()
	rec.Cards[0].Status = issuerdb.CardBlocked
	res := mirrorResult(rec)
	res.Profiles[0].Cards[0].Status = "SUSPENDED"
	got := Compare(rec, res, Options{Now: testNow})
	if risks := findingKinds(got, SeverityRisk); len(risks) != 0 {
		t.Errorf("blocked card suspended in the directory raised %v", risks)
	}
	if c := mustCell(t, got, "card:crd_visa_1:status", "VISA"); c.Verdict != Match {
		t.Errorf("blocked/SUSPENDED = %s, want match", c.Verdict)
	}
}

func TestCompareCardAbsent(t *testing.T) {
	rec := testCustomer()
	res := mirrorResult(rec)
	res.Profiles[0].Cards = []d1.Card{{ID: "crd_visa_other", Last4: "1111", Expiry: "0130"}}
	res.Profiles[0].Cards[0].Expiry = "0130"
	got := Compare(rec, res, Options{Now: testNow})
	if c := mustCell(t, got, "card:crd_visa_1:cardholderName", "VISA"); c.Verdict != MissingInDirectory {
		t.Errorf("absent card = %s, want missing-in-directory", c.Verdict)
	}
	wantInfo := "Card •••• 4242 is active at the issuer but not enrolled in Visa Click to Pay."
	found := false
	for _, f := range got.Findings {
		found = found || f.Message == wantInfo && f.Severity == SeverityInfo
	}
	if !found {
		t.Errorf("findings %+v lack %q", got.Findings, wantInfo)
	}
	// A closed card missing from the directory is how it should be: no finding.
	rec.Cards[0].Status = issuerdb.CardClosed
	for _, f := range Compare(rec, res, Options{Now: testNow}).Findings {
		if f.CardKey == "crd_visa_1" {
			t.Errorf("closed, absent card raised %+v", f)
		}
	}
}

func TestCompareCardFields(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*d1.Card)
		field   string
		verdict Verdict
		reason  Reason
	}{
		{"expiry renewed at the issuer only", func(c *d1.Card) { c.Expiry = "0825" }, "expiry", Differs, ReasonNone},
		{"expiry with a slash", func(c *d1.Card) { c.Expiry = "08/28" }, "expiry", Equivalent, ReasonFormat},
		{"cardholder name lower case", func(c *d1.Card) { c.CardholderName = "Amelia R Hartmann" }, "cardholderName", Equivalent, ReasonCase},
		{"address line moved", func(c *d1.Card) { c.BillingAddress.Line2, c.BillingAddress.Line1 = c.BillingAddress.Line1, "" }, "billing.line2", MissingAtIssuer, ReasonNone},
		{"address line moved, line 1", func(c *d1.Card) { c.BillingAddress.Line2, c.BillingAddress.Line1 = c.BillingAddress.Line1, "" }, "billing.line1", MissingInDirectory, ReasonNone},
		{"city in capitals", func(c *d1.Card) { c.BillingAddress.City = "LONDON" }, "billing.city", Equivalent, ReasonCase},
		{"region", func(c *d1.Card) { c.BillingAddress.State = "Kent" }, "billing.region", Differs, ReasonNone},
		{"postal code without space", func(c *d1.Card) { c.BillingAddress.PostalCode = "SW1A2AA" }, "billing.postalCode", Equivalent, ReasonPostalFormat},
		{"country alpha-3", func(c *d1.Card) { c.BillingAddress.Country = "GBR" }, "billing.country", Equivalent, ReasonCountryCode},
		{"status suspended", func(c *d1.Card) { c.Status = "SUSPENDED" }, "status", Differs, ReasonNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := testCustomer()
			res := mirrorResult(rec)
			tc.change(&res.Profiles[0].Cards[0])
			got := Compare(rec, res, Options{Now: testNow})
			c := mustCell(t, got, CardField("crd_visa_1", tc.field), "VISA")
			if c.Verdict != tc.verdict || c.Reason != tc.reason {
				t.Errorf("%s = %s/%q, want %s/%q", tc.field, c.Verdict, c.Reason, tc.verdict, tc.reason)
			}
			found := false
			for _, f := range got.Findings {
				found = found || f.CardKey == "crd_visa_1" && f.Field == CardField("crd_visa_1", tc.field) && f.Directory == "VISA"
			}
			if !found {
				t.Errorf("findings = %+v, want one about the card field", got.Findings)
			}
		})
	}
}

func TestCompareDuplicateAndBlankCardIDs(t *testing.T) {
	rec := testCustomer()
	res := mirrorResult(rec)
	dup := res.Profiles[0].Cards[0]
	res.Profiles[0].Cards = append(res.Profiles[0].Cards, dup, d1.Card{Last4: "9999", Expiry: "1299"})
	got := Compare(rec, res, Options{Now: testNow})
	seen := map[string]bool{}
	for _, r := range got.Rows {
		if seen[r.Field] {
			t.Errorf("two rows share data-field %q", r.Field)
		}
		seen[r.Field] = true
	}
	var keys []string
	for _, c := range got.Cards {
		keys = append(keys, c.Key)
	}
	want := []string{"crd_visa_1", "crd_mc_1", "crd_visa_1-2", "unknown-visa-9999-1299"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("card keys (-want +got):\n%s", diff)
	}
	if n := len(findingKinds(got, SeverityRisk)); n != 2 {
		t.Errorf("risks = %v, want two unknown cards", findingKinds(got, SeverityRisk))
	}
}
