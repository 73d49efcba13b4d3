package handlers

import (
	"testing"

	"ctpdesk/d1"
	"ctpdesk/reconcile"

	"github.com/google/go-cmp/cmp"
)

// TestOneExpiryFormatOnEveryScreen: the issuer record's cards, the comparison's expiry rows and
// the card matrix all write an expiry as MM/YY.
func TestOneExpiryFormatOnEveryScreen(t *testing.T) {
	record := customerView(viewCustomer(), false, false)
	if got := record.Cards[0].Expiry; got != "08/28" {
		t.Errorf("issuer record card expiry %q, want 08/28", got)
	}
	c := reconcile.Compare(viewCustomer(), viewResult(), reconcile.Options{Now: viewNow})
	page := buildComparisonView(c, comparisonViewOptions{})
	row := mustRow(t, page, "card:crd_42:expiry")
	got := []string{row.Issuer.Items[0].Text, row.Cells[0].Value.Items[0].Text}
	if diff := cmp.Diff([]string{"08/28", "08/28"}, got); diff != "" {
		t.Errorf("expiry row, issuer then Visa (-want +got):\n%s", diff)
	}
	if got := page.Cards.Lines[0].Issuer; got != "Stolen · expires 08/28" {
		t.Errorf("card matrix, issuer: %q", got)
	}

	// A directory that writes the date another way is shown doing so, beside the verdict that
	// says it is the same date.
	res := viewResult()
	res.Profiles[0].Cards = append([]d1.Card(nil), res.Profiles[0].Cards...)
	res.Profiles[0].Cards[0].Expiry = "2028-08"
	c = reconcile.Compare(viewCustomer(), res, reconcile.Options{Now: viewNow})
	cell := mustRow(t, buildComparisonView(c, comparisonViewOptions{}), "card:crd_42:expiry").Cells[0]
	if cell.Verdict != string(reconcile.Equivalent) || cell.Value.Items[0].Text != "2028-08" {
		t.Errorf("odd directory expiry: %s %q, want equivalent 2028-08", cell.Verdict, cell.Value.Items[0].Text)
	}
}
