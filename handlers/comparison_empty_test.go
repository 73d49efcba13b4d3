package handlers

import (
	"testing"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
)

// allMatching is viewCustomer with a card no longer stolen, and Visa and Mastercard profiles
// that agree with the issuer in every field.
func allMatching() (issuerdb.Customer, d1.Result) {
	cust := viewCustomer()
	cust.Cards[0].Status = issuerdb.CardActive
	consumer := d1.Consumer{FirstName: "Zoë", LastName: "Martin", Emails: []string{"zoe.martin@example.com"},
		Phones: []d1.Phone{{CountryCode: "33", Number: "612345678"}}, Language: "fr-FR"}
	card := d1.Card{ID: "crd_42", Last4: "4242", Expiry: "0828", CardholderName: "ZOE MARTIN", Status: "ACTIVE",
		BillingAddress: d1.Address{Line1: "1 Rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"}}
	return cust, d1.Result{FetchedAt: viewNow, Profiles: []d1.Profile{
		{Directory: "VISA", Consumer: consumer, Cards: []d1.Card{card}},
		{Directory: "MASTERCARD", Consumer: consumer},
	}}
}

// TestNothingDiffersSaysHowManyFieldsMatch: when differences only leaves no row, the grid says
// how many fields match, and only claims the directories that hold a profile.
func TestNothingDiffersSaysHowManyFieldsMatch(t *testing.T) {
	cust, res := allMatching()
	c := reconcile.Compare(cust, res, reconcile.Options{Now: viewNow})
	if got := len(c.Rows); got != 16 {
		t.Fatalf("precondition: a customer with one card has %d fields, want 16", got)
	}
	if got := buildComparisonView(c, comparisonViewOptions{DiffOnly: true}).Grid.EmptyText; got != "All 16 fields match." {
		t.Errorf("every directory compared: %q", got)
	}
	if got := buildComparisonView(c, comparisonViewOptions{}).Grid.EmptyText; got != "" {
		t.Errorf("all fields shown, yet the grid says %q", got)
	}

	res.Profiles = res.Profiles[:1]
	c = reconcile.Compare(cust, res, reconcile.Options{Now: viewNow})
	if got := buildComparisonView(c, comparisonViewOptions{DiffOnly: true}).Grid.EmptyText; got != "All 16 fields match in the directories that were compared." {
		t.Errorf("Mastercard not enrolled: %q", got)
	}

	c = reconcile.Compare(viewCustomer(), viewResult(), reconcile.Options{Now: viewNow})
	if got := buildComparisonView(c, comparisonViewOptions{DiffOnly: true}).Grid.EmptyText; got != "" {
		t.Errorf("a field differs, yet the grid says %q", got)
	}
}
