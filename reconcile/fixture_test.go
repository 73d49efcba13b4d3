package reconcile

import (
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// testNow is the fixed clock of these tests.
var testNow = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

// testCustomer is a British customer with a Visa and a Mastercard card.
func testCustomer() issuerdb.Customer {
	addr := issuerdb.Address{Line1: "10 Downing Lane", City: "London", Region: "Greater London", PostalCode: "SW1A 2AA", Country: "GB"}
	return issuerdb.Customer{
		ID: "C0000001", ConsumerID: "cns_8f2k19qa77",
		FirstName: "Amelia", MiddleName: "Rose", LastName: "Hartmann",
		Email: "amelia.hartmann@example.com", Phone: "+447700900123", Language: "en-GB",
		Country: "GB", Address: addr, Status: issuerdb.CustomerActive,
		Cards: []issuerdb.Card{
			{ID: "crd_visa_1", CustomerID: "C0000001", Scheme: "VISA", Last4: "4242", ExpiryMonth: 8, ExpiryYear: 2028,
				CardholderName: "AMELIA R HARTMANN", BillingAddress: addr, Status: issuerdb.CardActive},
			{ID: "crd_mc_1", CustomerID: "C0000001", Scheme: "MASTERCARD", Last4: "5454", ExpiryMonth: 1, ExpiryYear: 2027,
				CardholderName: "AMELIA HARTMANN", BillingAddress: addr, Status: issuerdb.CardActive},
		},
	}
}

// mirrorProfile is the profile a directory holds when it agrees with the issuer in every field.
func mirrorProfile(rec issuerdb.Customer, dir string) d1.Profile {
	p := d1.Profile{
		Directory: dir,
		Consumer: d1.Consumer{
			FirstName: rec.FirstName, MiddleName: rec.MiddleName, LastName: rec.LastName,
			Emails:   []string{rec.Email},
			Phones:   []d1.Phone{{CountryCode: "44", Number: rec.Phone[3:]}},
			Language: rec.Language,
		},
	}
	for _, c := range rec.Cards {
		if c.Scheme != dir {
			continue
		}
		a := c.BillingAddress
		p.Cards = append(p.Cards, d1.Card{
			ID: c.ID, Last4: c.Last4, Expiry: issuerExpiry(c), CardholderName: c.CardholderName, Status: "ACTIVE",
			BillingAddress: d1.Address{Line1: a.Line1, Line2: a.Line2, Line3: a.Line3, City: a.City, State: a.Region, PostalCode: a.PostalCode, Country: a.Country},
		})
	}
	return p
}

// mirrorResult is a fresh D1 answer in which both directories agree with the issuer.
func mirrorResult(rec issuerdb.Customer) d1.Result {
	return d1.Result{
		Profiles:      []d1.Profile{mirrorProfile(rec, "VISA"), mirrorProfile(rec, "MASTERCARD")},
		FetchedAt:     testNow,
		CorrelationID: "corr-1",
	}
}

// mustCell returns the cell of one field in one directory.
func mustCell(tb testing.TB, c Comparison, field, dir string) Cell {
	tb.Helper()
	ci := -1
	for i, col := range c.Columns {
		if col.Directory == dir {
			ci = i
		}
	}
	if ci < 0 {
		tb.Fatalf("no column %q in %v", dir, c.Columns)
	}
	for _, r := range c.Rows {
		if r.Field == field {
			return r.Cells[ci]
		}
	}
	tb.Fatalf("no row %q", field)
	return Cell{}
}

// findingKinds lists the kinds of the findings of one severity.
func findingKinds(c Comparison, s Severity) []string {
	var out []string
	for _, f := range c.Findings {
		if f.Severity == s {
			out = append(out, f.Kind+"@"+f.Directory)
		}
	}
	return out
}
