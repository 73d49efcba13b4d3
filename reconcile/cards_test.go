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
			{Directory: "MASTERCARD", Relevant: true, Available: true, Present: true, Status: "ACTIVE", Expiry: "0329",
				Difference: KindCardUnknownToIssuer,
				Fields:     []FieldValue{{Kind: "expiry", Values: []string{"0329"}}, {Kind: "status", Values: []string{"ACTIVE"}}}},
		}},
	}
	if diff := cmp.Diff(want, got.Cards); diff != "" {
		t.Errorf("card matrix (-want +got):\n%s", diff)
	}
	// The foreign card is one line of the matrix and one difference, not one row per field.
	for _, r := range got.Rows {
		if r.CardKey == "crd_foreign" {
			t.Errorf("row %s for a card the issuer does not hold", r.Field)
		}
	}
	if got.Summary.Differences != 1 {
		t.Errorf("differences = %d, want 1", got.Summary.Differences)
	}
	wantRisk := Finding{Severity: SeverityRisk, Kind: KindCardUnknownToIssuer, Directory: "MASTERCARD", CardKey: "crd_foreign", Last4: "0005"}
	if len(got.Findings) == 0 || !cmp.Equal(got.Findings[0], wantRisk) {
		t.Errorf("findings = %+v, want the unknown card first", got.Findings)
	}
}

func TestCompareCardRisks(t *testing.T) {
	tests := []struct {
		status issuerdb.CardStatus
		risk   bool
	}{
		{issuerdb.CardStolen, true},
		{issuerdb.CardLost, true},
		{issuerdb.CardBlocked, true},
		{issuerdb.CardClosed, true},
		{issuerdb.CardExpired, false},
		{issuerdb.CardActive, false},
	}
	for _, tc := range tests {
		t.Run(string(tc.status), func(t *testing.T) {
			rec := testCustomer()
			rec.Cards[1].Status = tc.status
			got := Compare(rec, mirrorResult(rec), Options{Now: testNow})
			var risks []Finding
			for _, f := range got.Findings {
				if f.Severity == SeverityRisk {
					risks = append(risks, f)
				}
			}
			var want []Finding
			if tc.risk {
				want = []Finding{{Severity: SeverityRisk, Kind: KindCardBlockedButEnrolled, Directory: "MASTERCARD",
					Field: "card:crd_mc_1:status", FieldKind: "status", CardKey: "crd_mc_1", Last4: "5454", IssuerStatus: string(tc.status)}}
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
	// No directory holds the issuer's Visa card: no field rows, one line and one difference.
	for _, r := range got.Rows {
		if r.CardKey == "crd_visa_1" {
			t.Errorf("row %s for a card no directory holds", r.Field)
		}
	}
	if d := got.Cards[0].Directories[0]; d.Difference != KindCardNotEnrolled || d.Present {
		t.Errorf("Visa cell of the absent card = %+v, want card-not-enrolled", d)
	}
	wantWarn := Finding{Severity: SeverityWarn, Kind: KindCardNotEnrolled, Directory: "VISA", CardKey: "crd_visa_1", Last4: "4242", IssuerStatus: "active"}
	found := false
	for _, f := range got.Findings {
		found = found || cmp.Equal(f, wantWarn)
	}
	if !found {
		t.Errorf("findings %+v lack %+v", got.Findings, wantWarn)
	}
	// The card Visa holds instead is unknown to the issuer: two card-level differences in all.
	if got.Summary.Differences != 2 || got.Columns[0].Differences != 2 {
		t.Errorf("differences = %d (Visa %d), want 2", got.Summary.Differences, got.Columns[0].Differences)
	}
	// A closed card missing from the directory is how it should be: no finding, no difference.
	rec.Cards[0].Status = issuerdb.CardClosed
	closed := Compare(rec, res, Options{Now: testNow})
	for _, f := range closed.Findings {
		if f.CardKey == "crd_visa_1" {
			t.Errorf("closed, absent card raised %+v", f)
		}
	}
	if closed.Summary.Differences != 1 {
		t.Errorf("differences with the card closed = %d, want 1 (the unknown card)", closed.Summary.Differences)
	}
}

func TestCompareCardFields(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*d1.Card)
		field   string
		verdict Verdict
		reason  Reason
		state   CellState
	}{
		{"expiry renewed at the issuer only", func(c *d1.Card) { c.Expiry = "0825" }, "expiry", Differs, ReasonNone, ""},
		{"expiry with a slash", func(c *d1.Card) { c.Expiry = "08/28" }, "expiry", Equivalent, ReasonFormat, ""},
		{"cardholder name lower case", func(c *d1.Card) { c.CardholderName = "Amelia R Hartmann" }, "cardholderName", Equivalent, ReasonCase, ""},
		{"address line moved", func(c *d1.Card) { c.BillingAddress.Line2, c.BillingAddress.Line1 = c.BillingAddress.Line1, "" }, "billing.line2", MissingAtIssuer, ReasonNone, ""},
		{"address line moved, line 1", func(c *d1.Card) { c.BillingAddress.Line2, c.BillingAddress.Line1 = c.BillingAddress.Line1, "" }, "billing.line1", MissingInDirectory, ReasonNone, ""},
		{"city in capitals", func(c *d1.Card) { c.BillingAddress.City = "LONDON" }, "billing.city", Equivalent, ReasonCase, ""},
		{"region", func(c *d1.Card) { c.BillingAddress.State = "Kent" }, "billing.region", Differs, ReasonNone, ""},
		{"postal code without space", func(c *d1.Card) { c.BillingAddress.PostalCode = "SW1A2AA" }, "billing.postalCode", Equivalent, ReasonPostalFormat, ""},
		{"country alpha-3", func(c *d1.Card) { c.BillingAddress.Country = "GBR" }, "billing.country", Equivalent, ReasonCountryCode, ""},
		{"status suspended", func(c *d1.Card) { c.Status = "SUSPENDED" }, "status", Differs, ReasonNone, ""},
		{"status left out", func(c *d1.Card) { c.Status = "" }, "status", "", ReasonNone, NotProvided},
		{"region left out", func(c *d1.Card) { c.BillingAddress.State = "" }, "billing.region", "", ReasonNone, NotProvided},
		{"city left out", func(c *d1.Card) { c.BillingAddress.City = "" }, "billing.city", MissingInDirectory, ReasonNone, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := testCustomer()
			res := mirrorResult(rec)
			tc.change(&res.Profiles[0].Cards[0])
			got := Compare(rec, res, Options{Now: testNow})
			c := mustCell(t, got, CardField("crd_visa_1", tc.field), "VISA")
			if c.Verdict != tc.verdict || c.Reason != tc.reason || c.State != tc.state {
				t.Errorf("%s = %q/%q/%q, want %q/%q/%q", tc.field, c.Verdict, c.Reason, c.State, tc.verdict, tc.reason, tc.state)
			}
			if tc.state != "" {
				if len(got.Findings) != 0 {
					t.Errorf("a field left out raised %+v", got.Findings)
				}
				return
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
