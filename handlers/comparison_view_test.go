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
		Issuer: views.Value{Masked: true, Items: []views.ValueItem{{Text: "z•••@example.com"}}},
		Cells: []views.FieldCell{
			{Directory: "VISA", Verdict: "differs", VerdictLabel: "Differs", Icon: "≠",
				Value: views.Value{Masked: true, Items: []views.ValueItem{{Text: "z•••@example.org"}}}},
			{Directory: "MASTERCARD", Verdict: "missing-in-directory", VerdictLabel: "Missing in directory", Icon: "∅",
				Value: views.Value{Masked: true}},
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
	if !agent.Masked || fraud.Masked {
		t.Errorf("Masked = %v (agent), %v (fraud)", agent.Masked, fraud.Masked)
	}
	// Names are not contact data: the agent sees them, with the equivalence explained.
	wantName := views.FieldCell{Directory: "VISA", Verdict: "equivalent", VerdictLabel: "Equivalent (accents)", Icon: "≈",
		Value: views.Value{Items: []views.ValueItem{{Text: "Zoe"}}}}
	if diff := cmp.Diff(wantName, mustRow(t, agent, "firstName").Cells[0]); diff != "" {
		t.Errorf("first name cell (-want +got):\n%s", diff)
	}
}

func TestBuildComparisonViewPageParts(t *testing.T) {
	c := reconcile.Compare(viewCustomer(), viewResult(), reconcile.Options{Now: viewNow})
	got := buildComparisonView(c, comparisonViewOptions{DiffOnly: true, CSRFToken: "tok"})

	wantHead := views.ComparisonPage{
		CustomerID: "C42", DiffOnly: true,
		ToggleURL: "/customers/C42/comparison?show=all", TogglePageURL: "/customers/C42?show=all",
		RefreshURL: "/customers/C42/comparison/refresh", CSRFToken: "tok", Masked: true,
		Summary: views.ComparisonSummary{Directories: 2, Reached: 2, Enrolled: 1, Differences: 2, Equivalents: 3, Risks: 1},
	}
	head := got
	head.Columns, head.Groups, head.Cards, head.Risks, head.Findings, head.HiddenRows = nil, nil, nil, nil, nil, 0
	if diff := cmp.Diff(wantHead, head); diff != "" {
		t.Errorf("page head (-want +got):\n%s", diff)
	}
	wantCols := []views.DirectoryColumn{
		{Directory: "VISA", Name: "Visa", State: "profile", StateLabel: "Profile", CorrelationID: "corr-7", FetchedTime: "14:00:00 UTC"},
		{Directory: "MASTERCARD", Name: "Mastercard", State: "not-enrolled", StateLabel: "Not enrolled", CorrelationID: "corr-7", FetchedTime: "14:00:00 UTC"},
	}
	if diff := cmp.Diff(wantCols, got.Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	wantRisks := []views.FindingLine{{Severity: "risk", Message: "Card •••• 4242 is reported stolen at the issuer but still enrolled in Visa Click to Pay."}}
	if diff := cmp.Diff(wantRisks, got.Risks); diff != "" {
		t.Errorf("risks (-want +got):\n%s", diff)
	}
	wantCards := []views.CardLine{{
		Key: "crd_42", Label: "•••• 4242", Scheme: "Visa", AtIssuer: true, Risk: true, Issuer: "Stolen · expires 08/28",
		Cells: []views.CardPresence{
			{Directory: "VISA", Presence: "present", Text: "Enrolled · ACTIVE · expires 08/28"},
			{Directory: "MASTERCARD", Presence: "not-applicable", Text: "Not applicable"},
		},
	}}
	if diff := cmp.Diff(wantCards, got.Cards); diff != "" {
		t.Errorf("card matrix (-want +got):\n%s", diff)
	}
	var groups []string
	rows := 0
	for _, g := range got.Groups {
		groups = append(groups, g.ID+" "+g.Title)
		rows += len(g.Rows)
	}
	if diff := cmp.Diff([]string{"consumer Consumer", "card:crd_42 Card •••• 4242 · Visa · stolen at the issuer"}, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if rows+got.HiddenRows != len(c.Rows) || got.HiddenRows == 0 {
		t.Errorf("%d rows shown + %d hidden, want %d in all with some hidden", rows, got.HiddenRows, len(c.Rows))
	}
	all := buildComparisonView(c, comparisonViewOptions{})
	if all.HiddenRows != 0 || all.ToggleURL != "/customers/C42/comparison?show=diff" || all.TogglePageURL != "/customers/C42" {
		t.Errorf("show all: hidden %d, toggle %q %q", all.HiddenRows, all.ToggleURL, all.TogglePageURL)
	}
}

func TestBuildComparisonViewUnavailableAndStale(t *testing.T) {
	un := reconcile.CompareUnavailable(viewCustomer(), reconcile.Failure{Class: "timeout", CorrelationID: "corr-9", At: viewNow}, reconcile.Options{Now: viewNow})
	got := buildComparisonView(un, comparisonViewOptions{DiffOnly: true})
	want := views.DirectoryColumn{Directory: "VISA", Name: "Visa", State: "unavailable", StateLabel: "Unavailable",
		ErrorClass: "timeout", ErrorTime: "14:00:00 UTC", CorrelationID: "corr-9"}
	if diff := cmp.Diff(want, got.Columns[0]); diff != "" {
		t.Errorf("unavailable column (-want +got):\n%s", diff)
	}
	res := viewResult()
	res.Stale, res.FetchedAt = true, viewNow.Add(-7*time.Minute)
	st := buildComparisonView(reconcile.Compare(viewCustomer(), res, reconcile.Options{Now: viewNow}), comparisonViewOptions{})
	if c := st.Columns[0]; !c.Stale || c.AgeText != "7 minutes old" {
		t.Errorf("stale column = %+v, want 7 minutes old", c)
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
			if diff := cmp.Diff(views.Value{Items: []views.ValueItem{tc.want}}, got); diff != "" {
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
	for _, g := range p.Groups {
		for _, r := range g.Rows {
			if r.Field == field {
				return r
			}
		}
	}
	tb.Fatalf("no row %q", field)
	return views.FieldRow{}
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
	// Mastercard holds nothing for this customer: every consumer cell there is missing.
	if got := c.Rows[0].Cells[1].Verdict; got != reconcile.MissingInDirectory {
		t.Fatalf("precondition: Mastercard first name is %q", got)
	}
	v := buildComparisonView(c, comparisonViewOptions{DiffOnly: true})
	for _, g := range v.Groups {
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
	for _, g := range v.Groups {
		for _, r := range g.Rows {
			if r.Field == field {
				return r, true
			}
		}
	}
	return views.FieldRow{}, false
}
