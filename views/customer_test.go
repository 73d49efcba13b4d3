package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestPlaceholderIsBusyUntilLoaded(t *testing.T) {
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error {
		return ComparisonPlaceholder("/customers/C42/comparison").Render(context.Background(), b)
	})
	s := doc.Find("section#comparison")
	if s.AttrOr("aria-busy", "") != "true" {
		t.Error("the placeholder is not aria-busy while it loads")
	}
	// app.js clears aria-busy after each request that targets a data-busy element.
	if _, ok := s.Attr("data-busy"); !ok {
		t.Error("the placeholder lacks data-busy, so nothing would clear aria-busy")
	}
}

func TestValueWithRevealShowsTheControlInstead(t *testing.T) {
	reveal := &RevealForm{ID: "reveal-comparison-visa-email", Field: "email", Source: "VISA", Masked: "a•••@x.test, b•••@y.test", PostURL: "/customers/C1/reveal"}
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error {
		v := Value{Masked: true, Items: []ValueItem{{Text: "a•••@x.test"}, {Text: "b•••@y.test"}}, Reveal: reveal}
		return value(v).Render(context.Background(), b)
	})
	if n := doc.Find("#reveal-comparison-visa-email[data-testid=reveal-field]").Length(); n != 1 {
		t.Fatalf("%d Reveal controls, want 1", n)
	}
	// The masked text is printed once, inside the control.
	if got := doc.Text(); strings.Count(got, "a•••@x.test") != 1 {
		t.Errorf("the masked value is printed %d times: %q", strings.Count(got, "a•••@x.test"), got)
	}
}

func TestIssuerRecordRevealControls(t *testing.T) {
	r := CustomerRecord{CustomerID: "C1", Name: "Zoë Smith", Email: "z•••@example.com", Phone: "+44 •••• ••0123", Masked: true,
		RevealPhone: &RevealForm{ID: "reveal-record-issuer-phone", Field: "phone", Source: "issuer", Masked: "+44 •••• ••0123"}}
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return IssuerRecord(r).Render(context.Background(), b) })
	if doc.Find(`[data-issuer-field=phone] #reveal-record-issuer-phone`).Length() != 1 {
		t.Error("the phone has no Reveal control")
	}
	if doc.Find(`[data-issuer-field=email] [data-testid=reveal-field]`).Length() != 0 ||
		strings.TrimSpace(doc.Find(`[data-issuer-field=email]`).Text()) != r.Email {
		t.Errorf("the email (no control given) shows %q", doc.Find(`[data-issuer-field=email]`).Text())
	}
	if doc.Find(`.record-fields .rf dt`).Length() < 10 {
		t.Error("the record is not a list of labelled fields")
	}
}
