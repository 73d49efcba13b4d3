package views

import (
	"bytes"
	"context"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// comparisonFixture is a view model with one directory of each kind of state and a hostile value.
func comparisonFixture() ComparisonPage {
	cell := func(dir, verdict, label string, items ...ValueItem) FieldCell {
		return FieldCell{Directory: dir, Verdict: verdict, VerdictLabel: label, Icon: "≠", Value: Value{Items: items}}
	}
	return ComparisonPage{
		CustomerID: "C42", DiffOnly: true, ToggleURL: "/customers/C42/comparison?show=all", TogglePageURL: "/customers/C42?show=all",
		RefreshURL: "/customers/C42/comparison/refresh", CSRFToken: "tok-1", Masked: true, HiddenRows: 12,
		Summary: ComparisonSummary{Directories: 2, Reached: 1, Enrolled: 1, Differences: 2, Risks: 1},
		Columns: []DirectoryColumn{
			{Directory: "VISA", Name: "Visa", State: "profile", StateLabel: "Profile", Stale: true, AgeText: "7 minutes old", CorrelationID: "corr-7"},
			{Directory: "MASTERCARD", Name: "Mastercard", State: "unavailable", StateLabel: "Unavailable", ErrorClass: "timeout", ErrorTime: "14:00:00 UTC", CorrelationID: "corr-9"},
		},
		Groups: []RowGroup{
			{ID: "consumer", Title: "Consumer", Rows: []FieldRow{
				{Field: "email", Label: "Email", Different: true, Issuer: Value{Masked: true, Items: []ValueItem{{Text: "z•••@example.com"}}},
					Cells: []FieldCell{cell("VISA", "differs", "Differs", ValueItem{Text: "z•••@example.org"}), cell("MASTERCARD", "unavailable", "Unavailable")}},
				{Field: "lastName", Label: "Last name", Different: true, Issuer: Value{Items: []ValueItem{{Text: "Martin"}}},
					Cells: []FieldCell{
						cell("VISA", "differs", "Differs", ValueItem{Text: "<script>alert(1)</script>AAAA", Full: "<script>alert(1)</script>AAAAAAAA", Truncated: true}),
						cell("MASTERCARD", "unavailable", "Unavailable"),
					}},
			}},
		},
		Cards: []CardLine{{Key: "crd_42", Label: "•••• 4242", Scheme: "Visa", AtIssuer: true, Risk: true, Issuer: "Stolen · expires 08/28",
			Cells: []CardPresence{{Directory: "VISA", Presence: "present", Text: "Enrolled · ACTIVE"}, {Directory: "MASTERCARD", Presence: "unavailable", Text: "Unavailable"}}}},
		Risks:    []FindingLine{{Severity: "risk", Message: "Card •••• 4242 is reported stolen at the issuer but still enrolled in Visa Click to Pay."}},
		Findings: []FindingLine{{Severity: "warn", Message: "Email differs between the issuer and Visa Click to Pay.", Field: "email"}},
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

func TestComparisonGridHooks(t *testing.T) {
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return Comparison(comparisonFixture()).Render(context.Background(), b) })
	var got []string
	doc.Find(".cmp-grid tbody td").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("data-source"); src == "issuer" {
			return
		}
		f, _ := s.Attr("data-field")
		d, _ := s.Attr("data-directory")
		v, _ := s.Attr("data-verdict")
		got = append(got, f+"|"+d+"|"+v+"|"+s.Find(".verdict").Text())
	})
	want := []string{
		"email|VISA|differs|≠ Differs", "email|MASTERCARD|unavailable|≠ Unavailable",
		"lastName|VISA|differs|≠ Differs", "lastName|MASTERCARD|unavailable|≠ Unavailable",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if n := doc.Find(".cmp-grid .icon[aria-hidden=true]").Length(); n != 4 {
		t.Errorf("%d hidden icons, want 4: the verdict is said in words, the icon is decoration", n)
	}
	if n := doc.Find(`.cmp-grid thead th[scope=col]`).Length(); n != 4 {
		t.Errorf("%d column headers, want Field, Issuer and two directories", n)
	}
	if n := doc.Find(`.cmp-grid tbody th[scope=row]`).Length(); n != 2 {
		t.Errorf("%d row headers, want 2", n)
	}
	if doc.Find(".cmp-grid caption").Length() != 1 {
		t.Error("grid has no caption")
	}
}

func TestComparisonColumnStates(t *testing.T) {
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return Comparison(comparisonFixture()).Render(context.Background(), b) })
	visa := doc.Find(`.cmp-grid thead th[data-directory=VISA]`)
	if s, _ := visa.Attr("data-stale"); s != "true" || visa.Find("[data-testid=stale]").Text() != "Stale: 7 minutes old" {
		t.Errorf("Visa header = %q, want stale 7 minutes old", visa.Text())
	}
	mc := doc.Find(`.cmp-grid thead th[data-directory=MASTERCARD]`)
	if s, _ := mc.Attr("data-state"); s != "unavailable" || mc.Find(".corr-id").Text() != "corr-9" || mc.Find("time").Text() != "14:00:00 UTC" {
		t.Errorf("Mastercard header = %q, want unavailable with time and correlation id", mc.Text())
	}
}

func TestComparisonHostileValueIsInert(t *testing.T) {
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return Comparison(comparisonFixture()).Render(context.Background(), b) })
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
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return Comparison(comparisonFixture()).Render(context.Background(), b) })
	toggle := doc.Find("[data-testid=diff-toggle]")
	href, _ := toggle.Attr("href")
	push, _ := toggle.Attr("hx-push-url")
	get, _ := toggle.Attr("hx-get")
	if href != "/customers/C42?show=all" || push != href || get != "/customers/C42/comparison?show=all" {
		t.Errorf("toggle href=%q push=%q get=%q", href, push, get)
	}
	if got := toggle.Text(); !bytes.Contains([]byte(got), []byte("Show all fields")) {
		t.Errorf("toggle text %q", got)
	}
	form := doc.Find("form.cmp-refresh")
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("refresh method %q", m)
	}
	if v, _ := form.Find("input[name=_csrf]").Attr("value"); v != "tok-1" {
		t.Errorf("refresh CSRF token %q", v)
	}
	if got := doc.Find("[data-testid=risks] li").Text(); got != "Card •••• 4242 is reported stolen at the issuer but still enrolled in Visa Click to Pay." {
		t.Errorf("risk = %q", got)
	}
	if got, _ := doc.Find(`.cmp-cards td[data-directory=VISA]`).Attr("data-presence"); got != "present" {
		t.Errorf("card matrix presence %q", got)
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
}
