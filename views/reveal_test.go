package views

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func renderDoc(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestRevealControlMarkup(t *testing.T) {
	f := RevealForm{
		ID: "reveal-visa-phone", PostURL: "/customers/CU1/reveal", CSRFToken: "tok-9", Field: "phone",
		FieldLabel: "phone number", Source: "VISA", SourceLabel: "VISA directory", Masked: "+44 •••• ••0123",
		Reasons:    []Option{{Value: "dispute", Label: "Dispute"}, {Value: "other", Label: "Other", Selected: true}},
		ReasonText: `"><script>x</script>`, Error: "Explain why.", Open: true,
	}
	doc := renderDoc(t, RevealControl(f))
	root := doc.Find(`#reveal-visa-phone[data-testid="reveal-field"][data-field="phone"][data-source="VISA"]`)
	if root.Length() != 1 {
		t.Fatal("no reveal control with its hooks")
	}
	form := root.Find(`form[data-testid="reveal-form"]`)
	for attr, want := range map[string]string{"method": "post", "action": "/customers/CU1/reveal", "hx-post": "/customers/CU1/reveal",
		"hx-target": "#reveal-visa-phone", "hx-swap": "outerHTML"} {
		if got, _ := form.Attr(attr); got != want {
			t.Errorf("form %s = %q, want %q", attr, got, want)
		}
	}
	hidden := map[string]string{}
	form.Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		hidden[n] = v
	})
	if hidden["_csrf"] != "tok-9" || hidden["field"] != "phone" || hidden["source"] != "VISA" {
		t.Errorf("hidden fields %v", hidden)
	}
	radios := form.Find(`input[type="radio"][name="reason"][required]`)
	if radios.Length() != 2 {
		t.Fatalf("%d required reason radios, want 2", radios.Length())
	}
	if _, checked := form.Find(`[data-testid="reveal-reason-other"]`).Attr("checked"); !checked {
		t.Error("the chosen reason is not checked")
	}
	radios.Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Parent().Text()) == "" {
			t.Error("a reason radio has no label text")
		}
	})
	text := form.Find(`[data-testid="reveal-reason-text"]`)
	if id, _ := text.Attr("id"); id == "" || form.Find(`label[for="`+id+`"]`).Length() != 1 {
		t.Error("the explanation input has no label")
	}
	if v, _ := text.Attr("value"); v != f.ReasonText {
		t.Errorf("explanation value %q", v)
	}
	if doc.Find("script").Length() != 0 {
		t.Error("hostile text became markup")
	}
	if _, open := root.Find("details").Attr("open"); !open || root.Find(`[data-testid="reveal-error"]`).Text() != "Explain why." {
		t.Error("the refused form is not open with its error")
	}
	if got := root.Find(`[data-testid="masked-value"]`).Text(); got != f.Masked {
		t.Errorf("masked value %q", got)
	}
}

func TestRevealedMarkup(t *testing.T) {
	doc := renderDoc(t, Revealed(RevealedValue{Field: "email", Source: "issuer", Values: []string{"a@example.test", "<b>x</b>"}}))
	vals := doc.Find(`[data-testid="revealed"][data-field="email"][data-source="issuer"] [data-testid="revealed-value"]`)
	if vals.Length() != 2 || vals.Eq(1).Text() != "<b>x</b>" || doc.Find("b").Length() != 0 {
		t.Fatalf("revealed values rendered wrong: %d", vals.Length())
	}
	empty := renderDoc(t, Revealed(RevealedValue{Field: "phone", Source: "issuer"}))
	if empty.Find(".val-empty").Length() != 1 {
		t.Error("an empty value is not said to be empty")
	}
}
