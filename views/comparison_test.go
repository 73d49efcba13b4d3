package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// comparisonFixture is a view model with a compared directory, a collapsed one, a cell state
// and a hostile value.
func comparisonFixture() ComparisonPage {
	cell := func(dir, verdict, label string, items ...ValueItem) FieldCell {
		return FieldCell{Directory: dir, Verdict: verdict, Label: label, Icon: "≠", Value: Value{Items: items}}
	}
	collapsed := FieldCell{Directory: "MASTERCARD", State: "not-enrolled", RowSpan: 3, Explain: "Not enrolled: D1 answered."}
	covered := FieldCell{Directory: "MASTERCARD", State: "not-enrolled", Covered: true}
	return ComparisonPage{
		CustomerID: "C42", DiffOnly: true, CanFilter: true, ToggleURL: "/customers/C42/comparison?show=all", TogglePageURL: "/customers/C42?show=all",
		ToggleLabel: "Show all fields", RefreshURL: "/customers/C42/comparison/refresh", CSRFToken: "tok-1", MaskedNote: "Contact details are masked for your role.",
		Summary: ComparisonSummary{Counted: true, Differences: 2, Risks: 1, Scope: "Compared with Visa", DifferencesText: "2 differences",
			EquivalentsText: "0 equivalent values", RisksText: "1 risk", Notes: []string{"Not enrolled in Mastercard."}},
		Columns: []DirectoryColumn{
			{Directory: "VISA", Name: "Visa", State: "profile", StateLabel: "Profile", Stale: true, StaleText: "Stale: 7 minutes old", CorrelationID: "corr-7"},
			{Directory: "MASTERCARD", Name: "Mastercard", State: "not-enrolled", StateLabel: "Not enrolled", Collapsed: true},
		},
		Grid: ComparisonGrid{Caption: "Issuer record beside each Click to Pay directory", HiddenNote: "— 12 rows hidden", Groups: []RowGroup{
			{ID: "consumer", Title: "Consumer", Rows: []FieldRow{
				{Field: "email", Label: "Email", Different: true, Issuer: Value{Masked: true, Items: []ValueItem{{Text: "z•••@example.com"}}},
					Cells: []FieldCell{{Directory: "VISA", Verdict: "differs", Label: "Differs", Detail: "in the domain", Icon: "≠",
						Value: Value{Masked: true, Items: []ValueItem{{Text: "z•••@example.org"}}}}, collapsed}},
				{Field: "lastName", Label: "Last name", Different: true, Issuer: Value{Items: []ValueItem{{Text: "Martin"}}},
					Cells: []FieldCell{cell("VISA", "differs", "Differs", ValueItem{Text: "<script>alert(1)</script>AAAA", Full: "<script>alert(1)</script>AAAAAAAA", Truncated: true}), covered}},
				{Field: "middleName", Label: "Middle name", Issuer: Value{Items: []ValueItem{{Text: "Rose"}}},
					Cells: []FieldCell{{Directory: "VISA", State: "not-provided", Label: "Not provided by the directory", Icon: "–", Value: Value{EmptyText: "no value"}}, covered}},
			}},
		}},
		Cards: CardMatrix{Caption: "Cards", Columns: []DirectoryColumn{{Directory: "VISA", Name: "Visa"}, {Directory: "MASTERCARD", Name: "Mastercard", Collapsed: true}},
			Lines: []CardLine{{Key: "crd_42", Label: "•••• 4242", Scheme: "Visa", Risk: true, Issuer: "Stolen · expires 08/28",
				Cells: []CardPresence{{Directory: "VISA", Presence: "present", Text: "Enrolled · ACTIVE"}, {Directory: "MASTERCARD", Presence: "no-profile", Text: "No profile", RowSpan: 1}}}}},
		RisksTitle: "1 risk found",
		Risks: []FindingLine{{Severity: "risk", Message: "Card •••• 4242 is reported stolen at the issuer but still enrolled in Visa Click to Pay.",
			NextStep: "Next step: opt the card out.", CaseID: "case-1", CaseTitle: "Case summary", CaseText: "Customer id: C42", CopyLabel: "Copy case summary"}},
		FindingsTitle: "1 other finding",
		Findings:      []FindingLine{{Severity: "warn", SeverityLabel: "Difference", Message: "Email differs between the issuer and Visa Click to Pay.", Field: "email"}},
	}
}

// mustRenderDoc renders a component and parses it.
func mustRenderDoc(tb testing.TB, render func(*bytes.Buffer) error) *goquery.Document {
	tb.Helper()
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		tb.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func renderComparison(tb testing.TB, p ComparisonPage) *goquery.Document {
	tb.Helper()
	return mustRenderDoc(tb, func(b *bytes.Buffer) error { return Comparison(p).Render(context.Background(), b) })
}

func TestComparisonGridHooks(t *testing.T) {
	doc := renderComparison(t, comparisonFixture())
	var got []string
	doc.Find(".cmp-grid tbody td").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("data-source"); src == "issuer" {
			return
		}
		attr := func(n string) string { v, _ := s.Attr(n); return v }
		got = append(got, attr("data-field")+"|"+attr("data-directory")+"|"+attr("data-verdict")+"|"+attr("data-state")+"|"+attr("data-collapsed")+"|"+attr("rowspan"))
	})
	want := []string{
		"email|VISA|differs|||", "|MASTERCARD|||not-enrolled|3",
		"lastName|VISA|differs|||",
		"middleName|VISA||not-provided||",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if got := doc.Find(`td[data-field=email][data-directory=VISA] [data-testid=differs-in]`).Text(); got != "in the domain" {
		t.Errorf("where the masked email differs = %q", got)
	}
	if got := strings.TrimSpace(doc.Find(`td[data-collapsed]`).Text()); got != "Not enrolled: D1 answered." {
		t.Errorf("collapsed cell says %q", got)
	}
	if n := doc.Find(".cmp-grid .icon[aria-hidden=true]").Length(); n != 3 {
		t.Errorf("%d hidden icons, want 3: the verdict is said in words, the icon is decoration", n)
	}
	if n := doc.Find(`.cmp-grid thead th[scope=col]`).Length(); n != 4 {
		t.Errorf("%d column headers, want Field, Issuer and two directories", n)
	}
	if doc.Find(".cmp-grid caption").Length() != 1 {
		t.Error("grid has no caption")
	}
	// Every value and directory name is isolated from the text around it.
	if n := doc.Find(`.cmp-grid bdi.val`).Length(); n != 4 {
		t.Errorf("%d isolated values, want 4 (the cut value is isolated in its two parts)", n)
	}
	if doc.Find(`.cmp-grid thead bdi.dir-name`).Length() != 2 {
		t.Error("directory names in the headers are not isolated")
	}
}

func TestComparisonEmptyGrid(t *testing.T) {
	p := comparisonFixture()
	p.Grid.Groups, p.Grid.EmptyText = nil, "No field differs."
	doc := renderComparison(t, p)
	empty := doc.Find(`[data-testid=grid-empty]`)
	if empty.Text() != "No field differs." || empty.AttrOr("colspan", "") != "4" {
		t.Errorf("empty grid row = %q colspan %q", empty.Text(), empty.AttrOr("colspan", ""))
	}
}

func TestComparisonColumnStates(t *testing.T) {
	p := comparisonFixture()
	p.Columns[1] = DirectoryColumn{Directory: "MASTERCARD", Name: "Mastercard", State: "unavailable", StateLabel: "Not checked",
		Detail: "D1 did not answer in time · gave up at 14:00:08 UTC", CorrelationID: "corr-9", Collapsed: true}
	doc := renderComparison(t, p)
	visa := doc.Find(`.cmp-grid thead th[data-directory=VISA]`)
	if s, _ := visa.Attr("data-stale"); s != "true" || visa.Find("[data-testid=stale]").Text() != "Stale: 7 minutes old" {
		t.Errorf("Visa header = %q, want stale 7 minutes old", visa.Text())
	}
	mc := doc.Find(`.cmp-grid thead th[data-directory=MASTERCARD]`)
	if s, _ := mc.Attr("data-state"); s != "unavailable" || mc.Find(".corr-id").Text() != "corr-9" || !strings.Contains(mc.Text(), "gave up at 14:00:08 UTC") {
		t.Errorf("Mastercard header = %q, want unavailable with when it gave up and the correlation id", mc.Text())
	}
}

func TestComparisonSummaryAndOutcome(t *testing.T) {
	doc := renderComparison(t, comparisonFixture())
	s := doc.Find(`[data-testid=comparison-summary]`)
	for attr, want := range map[string]string{"data-counted": "true", "data-differences": "2", "data-equivalents": "0", "data-risks": "1"} {
		if got := s.AttrOr(attr, ""); got != want {
			t.Errorf("summary %s = %q, want %q", attr, got, want)
		}
	}
	if got := strings.Join(strings.Fields(s.Text()), " "); got != "Compared with Visa · 2 differences · 0 equivalent values · 1 risk Not enrolled in Mastercard." {
		t.Errorf("summary says %q", got)
	}
	if doc.Find(`[data-testid=comparison-outcome]`).Length() != 0 {
		t.Error("an outcome is shown though every directory answered")
	}

	// Nothing checked: the outcome comes first, with the correlation id and a retry, and the
	// summary has no counts at all.
	p := comparisonFixture()
	o := UnavailableOutcome([]string{"VISA", "MASTERCARD"}, "timeout", "14:00:08 UTC", "corr-9", false)
	p.Outcome, p.Summary = &o, ComparisonSummary{}
	doc = renderComparison(t, p)
	out := doc.Find(`[data-testid=comparison-outcome]`)
	if out.AttrOr("data-outcome", "") != "unavailable" || out.AttrOr("role", "") != "alert" {
		t.Errorf("outcome attributes = %v", out.Nodes[0].Attr)
	}
	text := strings.Join(strings.Fields(out.Text()), " ")
	for _, want := range []string{"Visa and Mastercard could not be checked", "D1 did not answer in time", "gave up at 14:00:08 UTC", "corr-9", "not an all-clear"} {
		if !strings.Contains(text, want) {
			t.Errorf("outcome %q lacks %q", text, want)
		}
	}
	if out.Find(`button[data-testid=retry]`).Length() != 1 || out.Find(`input[name=_csrf]`).AttrOr("value", "") != "tok-1" {
		t.Error("the outcome offers no CSRF-protected retry")
	}
	sum := doc.Find(`[data-testid=comparison-summary]`)
	if sum.AttrOr("data-counted", "") != "false" || sum.AttrOr("data-risks", "none") != "none" || strings.Contains(sum.Text(), "risk") {
		t.Errorf("with nothing checked the summary still counts: %q", sum.Text())
	}
	if strings.Contains(doc.Text(), "0 risks") {
		t.Error("a comparison that checked nothing says 0 risks")
	}
}

func TestComparisonHostileValueIsInert(t *testing.T) {
	doc := renderComparison(t, comparisonFixture())
	if n := doc.Find("script").Length(); n != 0 {
		t.Fatalf("%d script elements in the fragment", n)
	}
	v := doc.Find(`td[data-field=lastName][data-directory=VISA] .val-trunc`)
	if tab, _ := v.Attr("tabindex"); tab != "0" {
		t.Errorf("truncated value not focusable (tabindex %q)", tab)
	}
	if got := v.Find(".val-full").Text(); got != "<script>alert(1)</script>AAAAAAAA" {
		t.Errorf("full text = %q", got)
	}
	if got, _ := v.Find(".val-short").Attr("aria-hidden"); got != "true" {
		t.Error("short text is not hidden from screen readers, which read the full text")
	}
}

func TestComparisonControls(t *testing.T) {
	doc := renderComparison(t, comparisonFixture())
	toggle := doc.Find("[data-testid=diff-toggle]")
	href, _ := toggle.Attr("href")
	push, _ := toggle.Attr("hx-push-url")
	get, _ := toggle.Attr("hx-get")
	if href != "/customers/C42?show=all" || push != href || get != "/customers/C42/comparison?show=all" {
		t.Errorf("toggle href=%q push=%q get=%q", href, push, get)
	}
	if got := toggle.Text(); got != "Show all fields" {
		t.Errorf("toggle text %q", got)
	}
	form := doc.Find("form.cmp-refresh")
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("refresh method %q", m)
	}
	if v, _ := form.Find("input[name=_csrf]").Attr("value"); v != "tok-1" {
		t.Errorf("refresh CSRF token %q", v)
	}
	risk := doc.Find("[data-testid=risks] li")
	if got := risk.Find(".finding-message").Text(); got != "Card •••• 4242 is reported stolen at the issuer but still enrolled in Visa Click to Pay." {
		t.Errorf("risk = %q", got)
	}
	if got := risk.Find("[data-testid=next-step]").Text(); got != "Next step: opt the card out." {
		t.Errorf("next step = %q", got)
	}
	copyButton := risk.Find("[data-testid=copy-case]")
	if risk.Find("pre#case-1[data-testid=case-summary]").Text() != "Customer id: C42" || copyButton.AttrOr("data-copy-target", "") != "case-1" {
		t.Error("the risk has no case summary wired to its copy button")
	}
	if _, hidden := copyButton.Attr("hidden"); !hidden {
		t.Error("the copy button shows without the script that makes it work")
	}
	if got, _ := doc.Find(`.cmp-cards td[data-directory=VISA]`).Attr("data-presence"); got != "present" {
		t.Errorf("card matrix presence %q", got)
	}
	// Nothing to filter: no switch.
	p := comparisonFixture()
	p.CanFilter = false
	if renderComparison(t, p).Find("[data-testid=diff-toggle]").Length() != 0 {
		t.Error("the differences-only switch is offered with nothing compared")
	}
}

func TestComparisonPlaceholder(t *testing.T) {
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error {
		return ComparisonPlaceholder("/customers/C42/comparison?show=all").Render(context.Background(), b)
	})
	s := doc.Find("section#comparison")
	get, _ := s.Attr("hx-get")
	trig, _ := s.Attr("hx-trigger")
	if get != "/customers/C42/comparison?show=all" || trig != "load" {
		t.Errorf("placeholder hx-get=%q hx-trigger=%q", get, trig)
	}
	if s.Find("[role=status] progress").Length() != 1 {
		t.Error("placeholder shows no progress indicator")
	}
	if s.Find("[role=status] .cmp-waiting").Length() != 1 {
		t.Error("placeholder has no still-waiting line for a slow D1")
	}
}
