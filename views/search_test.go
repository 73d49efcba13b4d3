package views

import (
	"bytes"
	"context"
	"testing"
)

// TestSearchHighlightIsEscaped: a name holding markup is printed as text, the marked part
// inside <mark> as well, and the count carries its number for scripts and tests.
func TestSearchHighlightIsEscaped(t *testing.T) {
	s := SearchResults{Query: "img", Kind: "name", KindLabel: "name", Total: 1, From: 1, To: 1, CountText: "Showing 1 of 1",
		Rows: []SearchRow{{CustomerID: "C1", Name: "<img src=x> Smith", URL: "/customers/C1",
			NameParts: []TextPart{{Text: "<"}, {Text: "img", Mark: true}, {Text: " src=x> Smith"}},
			Cards:     []CardSummary{{Scheme: "VISA", Last4: "<b>1", Match: true}}}}}
	var buf bytes.Buffer
	if err := SearchResultsFragment(s).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { _, err := b.Write(buf.Bytes()); return err })
	if doc.Find("img, b").Length() != 0 {
		t.Fatalf("markup in a name or a card became elements:\n%s", buf.String())
	}
	link := doc.Find(`tr[data-customer-id=C1] a[data-result-link]`)
	if got := link.Text(); got != "<img src=x> Smith" {
		t.Errorf("link text %q", got)
	}
	if got := link.Find("mark").Text(); got != "img" {
		t.Errorf("marked %q, want %q", got, "img")
	}
	if got := doc.Find(".card-summary mark").Text(); got != "<b>1" {
		t.Errorf("card mark %q", got)
	}
	if got := doc.Find("[data-testid=result-count]").AttrOr("data-total", ""); got != "1" {
		t.Errorf("data-total %q", got)
	}
	if got := doc.Find("#search-results").AttrOr("data-query", ""); got != "img" {
		t.Errorf("data-query %q", got)
	}
}
