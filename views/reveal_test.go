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
		ID: "reveal-visa-phone", Peer: "comparison:VISA", PostURL: "/customers/CU1/reveal", CSRFToken: "tok-9", Field: "phone",
		FieldLabel: "phone number", Source: "VISA", SourceLabel: "VISA directory", Masked: "+44 •••• ••0123",
		Reasons:   []Option{{Value: "customer_verified", Label: "Verified call"}, {Value: "fraud_case", Label: "Fraud case", Selected: true}},
		Reference: `"><script>x</script>`, MaxReference: 16, Error: "The fraud case id must be FRD-…", ErrorField: "reference", Open: true,
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
	// The control's peer stands outside its form and comes in through hx-include with every
	// other control's: a form's own field of the same name would override the included ones.
	if _, inForm := hidden["peer"]; inForm {
		t.Error("the peer input is inside the form, where it hides the page's other peers")
	}
	if got := root.Find(`input[name="peer"][data-reveal-peer="phone"]`).AttrOr("value", ""); got != "comparison:VISA" {
		t.Errorf("peer = %q, want comparison:VISA", got)
	}
	if got := form.AttrOr("hx-include", ""); got != "[data-reveal-peer='phone']" {
		t.Errorf("hx-include = %q", got)
	}
	// The reason is a required select with a labelled, empty first choice and the codes.
	sel := form.Find(`select[name="reason"][required][data-testid="reveal-reason"]`)
	if id, _ := sel.Attr("id"); sel.Length() != 1 || id == "" || form.Find(`label[for="`+id+`"]`).Text() != "Why do you need the phone number?" {
		t.Fatal("no labelled, required reason select")
	}
	var values []string
	sel.Find("option").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		values = append(values, v)
		if strings.TrimSpace(s.Text()) == "" {
			t.Errorf("option %q has no label", v)
		}
	})
	if strings.Join(values, ",") != ",customer_verified,fraud_case" {
		t.Errorf("reason options %q", values)
	}
	if _, selected := sel.Find(`[data-testid="reveal-reason-fraud_case"]`).Attr("selected"); !selected {
		t.Error("the chosen reason is not selected")
	}
	if _, invalid := sel.Attr("aria-invalid"); invalid {
		t.Error("the reason is marked invalid although the error is about the reference")
	}
	// The reference input is labelled, bounded, described by its hint and, here, by the error.
	ref := form.Find(`input[type="text"][name="reference"][data-testid="reveal-reference"]`)
	id, _ := ref.Attr("id")
	if ref.Length() != 1 || id == "" || form.Find(`label[for="`+id+`"]`).Text() != "Case or ticket id" {
		t.Fatal("no labelled reference input")
	}
	for attr, want := range map[string]string{"value": f.Reference, "maxlength": "16", "aria-invalid": "true",
		"aria-describedby": "reveal-visa-phone-reference-hint reveal-visa-phone-error"} {
		if got, _ := ref.Attr(attr); got != want {
			t.Errorf("reference %s = %q, want %q", attr, got, want)
		}
	}
	if hint := form.Find("#reveal-visa-phone-reference-hint").Text(); !strings.Contains(hint, "FRD-20417") || !strings.Contains(hint, "CS-4711") {
		t.Errorf("reference hint %q", hint)
	}
	if form.Find(`[name="reason_text"]`).Length() != 0 {
		t.Error("the form still asks for a free-text reason")
	}
	if doc.Find("script").Length() != 0 {
		t.Error("hostile text became markup")
	}
	errBox := root.Find(`#reveal-visa-phone-error[role="alert"][data-testid="reveal-error"]`)
	if _, open := root.Find("details").Attr("open"); !open || errBox.Text() != f.Error {
		t.Error("the refused form is not open with its error")
	}
	if got := root.Find(`[data-testid="masked-value"]`).Text(); got != f.Masked {
		t.Errorf("masked value %q", got)
	}
}

func TestRevealControlMarksTheReasonInError(t *testing.T) {
	f := RevealForm{ID: "r", Field: "email", Reasons: []Option{{Value: "other", Label: "Other"}}, Error: "Choose why.", ErrorField: "reason", Open: true}
	doc := renderDoc(t, RevealControl(f))
	sel := doc.Find(`select[name="reason"]`)
	if v, _ := sel.Attr("aria-invalid"); v != "true" {
		t.Error("the reason select is not marked invalid")
	}
	if v, _ := sel.Attr("aria-describedby"); v != "r-error" {
		t.Errorf("the reason select is described by %q, want the error", v)
	}
	if _, invalid := doc.Find(`input[name="reference"]`).Attr("aria-invalid"); invalid {
		t.Error("the reference is marked invalid although the error is about the reason")
	}
	clean := renderDoc(t, RevealControl(RevealForm{ID: "r", Field: "email"}))
	if clean.Find(`[aria-invalid]`).Length() != 0 || clean.Find(`[data-testid="reveal-error"]`).Length() != 0 {
		t.Error("a form without an error marks a field invalid")
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
