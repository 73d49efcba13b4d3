package handlers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
	"ctpdesk/views"

	"github.com/google/go-cmp/cmp"
)

// viewNow is the fixed clock of the view-model tests.
var viewNow = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

// viewCustomer is a customer with one Visa card.
func viewCustomer() issuerdb.Customer {
	addr := issuerdb.Address{Line1: "1 Rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FR"}
	return issuerdb.Customer{
		ID: "C42", ConsumerID: "cns_42", FirstName: "Zoë", LastName: "Martin",
		Email: "zoe.martin@example.com", Phone: "+33612345678", Language: "fr-FR", Country: "FR", Address: addr,
		Cards: []issuerdb.Card{{ID: "crd_42", Scheme: "VISA", Last4: "4242", ExpiryMonth: 8, ExpiryYear: 2028,
			CardholderName: "ZOE MARTIN", BillingAddress: addr, Status: issuerdb.CardStolen}},
	}
}

// viewResult is a Visa profile that differs from viewCustomer in the ways the tests look at.
func viewResult() d1.Result {
	return d1.Result{FetchedAt: viewNow, CorrelationID: "corr-7", Profiles: []d1.Profile{{
		Directory: "VISA",
		Consumer: d1.Consumer{FirstName: "Zoe", LastName: "Martin", Emails: []string{"z.m@example.org"},
			Phones: []d1.Phone{{CountryCode: "33", Number: "612345678"}}, Language: "fr_FR"},
		Cards: []d1.Card{{ID: "crd_42", Last4: "4242", Expiry: "0828", CardholderName: "ZOE MARTIN", Status: "ACTIVE",
			BillingAddress: d1.Address{Line1: "1 Rue de la Paix", City: "Paris", PostalCode: "75002", Country: "FRA"}}},
	}}}
}

func TestBuildComparisonViewMasksForAgents(t *testing.T) {
	c := reconcile.Compare(viewCustomer(), viewResult(), reconcile.Options{Now: viewNow})
	agent := buildComparisonView(c, comparisonViewOptions{DiffOnly: true, CSRFToken: "tok"})
	fraud := buildComparisonView(c, comparisonViewOptions{DiffOnly: true, Unmasked: true})

	wantAgentEmail := views.FieldRow{
		Field: "email", Label: "Email", Different: true,
		Issuer: views.Value{Masked: true, EmptyText: "no value", Items: []views.ValueItem{{Text: "z•••@example.com"}}},
		Cells: []views.FieldCell{
			{Directory: "VISA", Verdict: "differs", Label: "Differs", Icon: "≠", Detail: "in the part before @ and the domain",
				Value: views.Value{Masked: true, EmptyText: "no value", Items: []views.ValueItem{{Text: "z•••@example.org"}}}},
			// Mastercard holds nothing: its column is one cell, spanning the group from its first row.
			{Directory: "MASTERCARD", State: "not-enrolled", Covered: true},
		},
	}
	if diff := cmp.Diff(wantAgentEmail, mustRow(t, agent, "email")); diff != "" {
		t.Errorf("agent email row (-want +got):\n%s", diff)
	}
	if got := mustRow(t, fraud, "email").Issuer.Items[0].Text; got != "zoe.martin@example.com" {
		t.Errorf("fraud sees issuer email %q, want it whole", got)
	}
	// The phone matches where the customer is enrolled, so only the full grid shows it.
	agentAll := buildComparisonView(c, comparisonViewOptions{CSRFToken: "tok"})
	if got := mustRow(t, agentAll, "phone").Cells[0].Value.Items[0].Text; strings.Contains(got, "612345") {
		t.Errorf("agent sees directory phone %q unmasked", got)
	}
	if agent.MaskedNote == "" || fraud.MaskedNote != "" {
		t.Errorf("masked notes = %q (agent), %q (fraud)", agent.MaskedNote, fraud.MaskedNote)
	}
	// Names are not contact data: the agent sees them, with the equivalence explained.
	wantName := views.FieldCell{Directory: "VISA", Verdict: "equivalent", Label: "Equivalent (accents)", Icon: "≈",
		Value: views.Value{EmptyText: "no value", Items: []views.ValueItem{{Text: "Zoe"}}}}
	if diff := cmp.Diff(wantName, mustRow(t, agent, "firstName").Cells[0]); diff != "" {
		t.Errorf("first name cell (-want +got):\n%s", diff)
	}
	if got := mustRow(t, agent, "firstName").Cells[1]; got.RowSpan != 3 || !strings.HasPrefix(got.Explain, "Not enrolled") {
		t.Errorf("Mastercard's collapsed cell = %+v, want one cell over the 3 consumer rows shown", got)
	}
}

func TestBuildComparisonViewPageParts(t *testing.T) {
	c := reconcile.Compare(viewCustomer(), viewResult(), reconcile.Options{Now: viewNow})
	got := buildComparisonView(c, comparisonViewOptions{DiffOnly: true, CSRFToken: "tok"})

	wantSummary := views.ComparisonSummary{Counted: true, Differences: 2, Equivalents: 3, Risks: 1, Scope: "Compared with Visa",
		DifferencesText: "2 differences", EquivalentsText: "3 equivalent values", RisksText: "1 risk", Notes: []string{"Not enrolled in Mastercard."}}
	if diff := cmp.Diff(wantSummary, got.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if got.Outcome != nil || !got.CanFilter || got.ToggleURL != "/customers/C42/comparison?show=all" || got.TogglePageURL != "/customers/C42?show=all" {
		t.Errorf("page head: outcome %+v, can filter %v, toggle %q %q", got.Outcome, got.CanFilter, got.ToggleURL, got.TogglePageURL)
	}
	wantCols := []views.DirectoryColumn{
		{Directory: "VISA", Name: "Visa", State: "profile", StateLabel: "Profile"},
		{Directory: "MASTERCARD", Name: "Mastercard", State: "not-enrolled", StateLabel: "Not enrolled", Collapsed: true,
			Explain: "Not enrolled: D1 answered, and Mastercard Click to Pay holds nothing for this customer."},
	}
	if diff := cmp.Diff(wantCols, got.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if len(got.Risks) != 1 {
		t.Fatalf("risks = %+v, want one", got.Risks)
	}
	risk := got.Risks[0]
	if risk.Message != "Card •••• 4242 is reported stolen at the issuer but still enrolled in Visa Click to Pay." ||
		!strings.Contains(risk.NextStep, "opt the card out of Visa Click to Pay through the issuer's D1 process") {
		t.Errorf("risk = %+v", risk)
	}
	for _, want := range []string{"Customer id: C42", "D1 consumer id: cns_42", "Directory: VISA", "Card id: crd_42 (•••• 4242)", "D1 correlation id: corr-7", "card-blocked-but-enrolled"} {
		if !strings.Contains(risk.CaseText, want) {
			t.Errorf("case summary lacks %q:\n%s", want, risk.CaseText)
		}
	}
	for _, pii := range []string{"Zoë", "Zoe", "Martin", "zoe.martin", "612345678", "Rue de la Paix"} {
		if strings.Contains(risk.CaseText, pii) {
			t.Errorf("case summary holds %q", pii)
		}
	}
	wantCards := []views.CardLine{{
		Key: "crd_42", Label: "•••• 4242", Scheme: "Visa", Risk: true, Issuer: "Stolen · expires 08/28",
		Cells: []views.CardPresence{
			{Directory: "VISA", Presence: "present", Icon: "●", Text: "Enrolled · ACTIVE · expires 08/28"},
			{Directory: "MASTERCARD", Presence: "no-profile", Icon: "–", Text: "No profile", RowSpan: 1},
		},
	}}
	if diff := cmp.Diff(wantCards, got.Cards.Lines); diff != "" {
		t.Errorf("card matrix (-want +got):\n%s", diff)
	}
	var groups []string
	rows := 0
	for _, g := range got.Grid.Groups {
		groups = append(groups, g.ID+" "+g.Title)
		rows += len(g.Rows)
	}
	if diff := cmp.Diff([]string{"consumer Consumer", "card:crd_42 Card •••• 4242 · Visa · stolen at the issuer"}, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if rows != 5 || got.Grid.HiddenNote != "— differences only; 11 rows without a difference hidden" {
		t.Errorf("%d rows shown, hidden note %q; want 5 and 11 hidden", rows, got.Grid.HiddenNote)
	}
	all := buildComparisonView(c, comparisonViewOptions{})
	if all.Grid.HiddenNote != "" || all.ToggleURL != "/customers/C42/comparison?show=diff" || all.TogglePageURL != "/customers/C42" {
		t.Errorf("show all: hidden %q, toggle %q %q", all.Grid.HiddenNote, all.ToggleURL, all.TogglePageURL)
	}
}

func TestBuildComparisonViewUnavailable(t *testing.T) {
	un := reconcile.CompareUnavailable(viewCustomer(), reconcile.Failure{Class: "timeout", CorrelationID: "corr-9", At: viewNow.Add(8 * time.Second)}, reconcile.Options{Now: viewNow})
	got := buildComparisonView(un, comparisonViewOptions{DiffOnly: true})
	want := views.DirectoryColumn{Directory: "VISA", Name: "Visa", State: "unavailable", StateLabel: "Not checked",
		Detail: "D1 did not answer in time · gave up at 14:00:08 UTC", CorrelationID: "corr-9", Collapsed: true,
		Explain: "Visa Click to Pay could not be checked: nothing here is known to match or differ."}
	if diff := cmp.Diff(want, got.Columns[0]); diff != "" {
		t.Errorf("unavailable column (-want +got):\n%s", diff)
	}
	o := got.Outcome
	if o == nil || o.Kind != "unavailable" || o.Title != "Visa and Mastercard could not be checked" || o.CorrelationID != "corr-9" ||
		o.RetryLabel == "" || !strings.Contains(o.Detail, "gave up at 14:00:08 UTC") {
		t.Fatalf("outcome = %+v", o)
	}
	if got.Summary.Counted || got.CanFilter || len(got.Risks) != 0 {
		t.Errorf("nothing was checked, yet the page counts (%+v), filters (%v) or finds risks", got.Summary, got.CanFilter)
	}
	// Every issuer field is shown, beside one explained cell per directory.
	if n := len(got.Grid.Groups); n != 1 || len(got.Grid.Groups[0].Rows) != 6 || got.Grid.HiddenNote != "" {
		t.Fatalf("grid = %+v, want the 6 consumer rows and nothing hidden", got.Grid)
	}
	first := got.Grid.Groups[0].Rows[0]
	if first.Cells[0].RowSpan != 6 || first.Cells[1].RowSpan != 6 || !got.Grid.Groups[0].Rows[1].Cells[0].Covered {
		t.Errorf("the unavailable columns are not collapsed: %+v", first.Cells)
	}
	if c := got.Cards.Lines[0].Cells[0]; c.Presence != "unavailable" || c.RowSpan != 1 {
		t.Errorf("card matrix cell of an unavailable directory = %+v", c)
	}
}

func TestBuildComparisonViewNotRegistered(t *testing.T) {
	nr := reconcile.CompareNotRegistered(viewCustomer(), "corr-404", viewNow, reconcile.Options{Now: viewNow})
	got := buildComparisonView(nr, comparisonViewOptions{})
	o := got.Outcome
	if o == nil || o.Kind != "not-registered" || o.Title != "Not registered at D1" || o.CorrelationID != "corr-404" ||
		!strings.Contains(o.Detail, "cns_42") || o.RetryLabel != "" {
		t.Fatalf("outcome = %+v", o)
	}
	if got.Columns[0].StateLabel != "Not registered at D1" || got.Columns[0].CorrelationID != "corr-404" || got.Summary.Counted {
		t.Errorf("column %+v, summary %+v", got.Columns[0], got.Summary)
	}
}

func TestBuildComparisonViewStale(t *testing.T) {
	res := viewResult()
	res.Stale, res.FetchedAt = true, viewNow.Add(-7*time.Minute)
	st := buildComparisonView(reconcile.Compare(viewCustomer(), res, reconcile.Options{Now: viewNow}), comparisonViewOptions{})
	if c := st.Columns[0]; !c.Stale || c.StaleText != "Stale: 7 minutes old" || c.CorrelationID != "corr-7" {
		t.Errorf("stale column = %+v, want 7 minutes old with the correlation id", c)
	}
	if n := st.Summary.Notes; len(n) != 2 || n[1] != "D1 could not be reached just now: this is its answer from 7 minutes ago (correlation id corr-7)." {
		t.Errorf("summary notes = %q", n)
	}
}

func TestBuildComparisonViewOneSidedCard(t *testing.T) {
	res := viewResult()
	res.Profiles[0].Cards = append(res.Profiles[0].Cards, d1.Card{ID: "crd_unk", Last4: "0005", Expiry: "1130", CardholderName: "Z MARTIN", Status: "ACTIVE"})
	got := buildComparisonView(reconcile.Compare(viewCustomer(), res, reconcile.Options{Now: viewNow}), comparisonViewOptions{})
	if _, ok := findRow(got, "card:crd_unk:expiry"); ok {
		t.Error("a card the issuer does not hold has rows of its own")
	}
	line := got.Cards.Lines[1]
	visa := line.Cells[0]
	if !line.Difference || !line.Risk || visa.DifferenceText != "One difference: the issuer does not hold this card" {
		t.Errorf("the unknown card's line = %+v", line)
	}
	want := []views.LabeledValue{{Label: "Expiry", Value: "1130"}, {Label: "Cardholder name", Value: "Z MARTIN"}, {Label: "Status", Value: "ACTIVE"}}
	if diff := cmp.Diff(want, visa.Fields); diff != "" || visa.FieldsTitle == "" {
		t.Errorf("reference fields (-want +got):\n%s", diff)
	}
	if got.Summary.Differences != 3 {
		t.Errorf("differences = %d, want 3 (email, status, the unknown card)", got.Summary.Differences)
	}
}

func TestValueViewHostileText(t *testing.T) {
	long := strings.Repeat("A", 10000)
	tests := []struct {
		name string
		in   string
		want views.ValueItem
	}{
		{"markup is kept as text for templ to escape", "<script>alert(1)</script>", views.ValueItem{Text: "<script>alert(1)</script>"}},
		{"RTL override made visible", "abc\u202Egpj.exe", views.ValueItem{Text: "abc[U+202E]gpj.exe"}},
		{"isolates made visible", "\u2067x\u2069", views.ValueItem{Text: "[U+2067]x[U+2069]"}},
		{"control characters", "a\x00b\x1bc\u0085", views.ValueItem{Text: "a[U+0000]b[U+001B]c[U+0085]"}},
		{"line breaks become spaces", "a\r\nb", views.ValueItem{Text: "a  b"}},
		{"invalid UTF-8", "a\xffb", views.ValueItem{Text: "a\uFFFDb"}},
		{"emoji kept whole", "👩🏽‍💻 Zoë", views.ValueItem{Text: "👩🏽‍💻 Zoë"}},
		{"10,000 characters", long, views.ValueItem{Text: long[:shortRunes], Full: long, Truncated: true}},
		{"beyond the full cap", long + "BC", views.ValueItem{Text: long[:shortRunes], Full: long + "… (2 more characters)", Truncated: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := valueView([]string{tc.in}, false)
			if diff := cmp.Diff(views.Value{EmptyText: "no value", Items: []views.ValueItem{tc.want}}, got); diff != "" {
				t.Errorf("valueView (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaskComparisonJSON(t *testing.T) {
	c := reconcile.Compare(viewCustomer(), viewResult(), reconcile.Options{Now: viewNow})
	masked, err := json.Marshal(maskComparison(c, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"zoe.martin@", "z.m@", "612345678", "+33612345678"} {
		if strings.Contains(string(masked), secret) {
			t.Errorf("masked JSON holds %q", secret)
		}
	}
	if !strings.Contains(string(masked), "z•••@example.com") {
		t.Errorf("masked JSON lacks the masked email: %s", masked)
	}
	whole, _ := json.Marshal(maskComparison(c, true))
	if !strings.Contains(string(whole), "zoe.martin@example.com") {
		t.Error("unmasked JSON lost the email")
	}
	// Masking copies: the comparison itself is untouched.
	if c.Rows[3].Issuer[0] != "zoe.martin@example.com" {
		t.Errorf("maskComparison changed its input: %q", c.Rows[3].Issuer)
	}
}

// mustRow finds a row of the view model by field.
func mustRow(tb testing.TB, p views.ComparisonPage, field string) views.FieldRow {
	tb.Helper()
	r, ok := findRow(p, field)
	if !ok {
		tb.Fatalf("no row %q", field)
	}
	return r
}

// A directory the customer is not enrolled in says so in its header; its empty fields must not
// turn every row into a "difference" that the differences-only view then shows.
func TestDifferencesOnlyIgnoresDirectoriesNotEnrolled(t *testing.T) {
	res := viewResult()
	p := &res.Profiles[0]
	p.Consumer = d1.Consumer{FirstName: "Zoë", LastName: "Martin", Emails: []string{"zoe.martin@example.com"},
		Phones: []d1.Phone{{CountryCode: "33", Number: "612345678"}}, Language: "fr-FR"}
	p.Cards[0].BillingAddress.Country = "FR"
	p.Cards[0].Status = "ACTIVE"
	c := reconcile.Compare(viewCustomer(), res, reconcile.Options{Now: viewNow})
	// Mastercard holds nothing for this customer: no cell there is a comparison.
	if got := c.Rows[0].Cells[1].State; got != reconcile.NotApplicable {
		t.Fatalf("precondition: Mastercard first name is %q", got)
	}
	v := buildComparisonView(c, comparisonViewOptions{DiffOnly: true})
	for _, g := range v.Grid.Groups {
		for _, r := range g.Rows {
			if g.ID == "consumer" {
				t.Errorf("consumer row %s shown although it matches in the one directory that holds the customer", r.Field)
			}
		}
	}
	// The stolen card still enrolled in Visa differs there and stays visible.
	if _, ok := findRow(v, "card:crd_42:status"); !ok {
		t.Error("the card status difference in Visa was hidden")
	}
}

func findRow(v views.ComparisonPage, field string) (views.FieldRow, bool) {
	for _, g := range v.Grid.Groups {
		for _, r := range g.Rows {
			if r.Field == field {
				return r, true
			}
		}
	}
	return views.FieldRow{}, false
}
