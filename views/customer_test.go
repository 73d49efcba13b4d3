package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
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

// TestIssuerRecordFieldsStayPut: every field of the record is there in the same order and
// grid area whatever the data holds; an absent middle name or address is a dash in its place.
func TestIssuerRecordFieldsStayPut(t *testing.T) {
	full := CustomerRecord{CustomerID: "C1", ConsumerID: "cns-1", Name: "Zoë Anne Smith", FirstName: "Zoë", MiddleName: "Anne",
		LastName: "Smith", Email: "z•••@example.com", Phone: "+44 •••• ••0123", Masked: true, Language: "en-GB", Country: "GB",
		Address: []string{"1 High Street", "Flat 2", "SW1A 1AA London", "GB"}, Created: "1 Jan 2020 09:00 UTC", Updated: "2 Jan 2020 09:00 UTC"}
	sparse := CustomerRecord{CustomerID: "C2", Name: "Al Smith", FirstName: "Al", LastName: "Smith", Masked: true,
		Created: "1 Jan 2020 09:00 UTC", Updated: "2 Jan 2020 09:00 UTC"}
	layout := func(r CustomerRecord) []string {
		doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return IssuerRecord(r).Render(context.Background(), b) })
		var out []string
		doc.Find(`[data-testid=record-fields] > .rf`).Each(func(_ int, rf *goquery.Selection) {
			out = append(out, rf.AttrOr("class", "")+" "+rf.Find("dt").Text()+" "+rf.Find("dd").AttrOr("data-issuer-field", ""))
		})
		return out
	}
	want := layout(full)
	if len(want) != 12 {
		t.Fatalf("%d fields in the record, want 12: %q", len(want), want)
	}
	if diff := cmp.Diff(want, layout(sparse)); diff != "" {
		t.Errorf("the fields move with the data (-full +sparse):\n%s", diff)
	}
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return IssuerRecord(sparse).Render(context.Background(), b) })
	for _, field := range []string{"middleName", "consumerId", "email", "phone", "language", "country", "address"} {
		dd := doc.Find(`[data-issuer-field=` + field + `]`)
		if dd.Find(".val-empty").Length() != 1 || !strings.Contains(dd.Text(), "—") {
			t.Errorf("empty %s shows %q, want a dash", field, dd.Text())
		}
	}
}

// TestIssuerCardsAreLabelledForNarrowScreens: on a phone each card row becomes a block, and
// every value carries the label its column header gave it.
func TestIssuerCardsAreLabelledForNarrowScreens(t *testing.T) {
	r := CustomerRecord{CustomerID: "C1", Name: "Zoë Smith", Cards: []CardRecord{{ID: "crd_1", Scheme: "VISA", Last4: "4242",
		Expiry: "08/28", Status: "active", Product: "Visa Classic", CardholderName: "ZOE SMITH", BillingAddress: []string{"1 High Street"}}}}
	doc := mustRenderDoc(t, func(b *bytes.Buffer) error { return IssuerRecord(r).Render(context.Background(), b) })
	var headers, labels []string
	doc.Find(`[data-testid=issuer-cards] thead th`).Each(func(i int, th *goquery.Selection) {
		if i > 0 {
			headers = append(headers, th.Text())
		}
	})
	doc.Find(`tr[data-card-id=crd_1] td`).Each(func(_ int, td *goquery.Selection) { labels = append(labels, td.AttrOr("data-label", "")) })
	if diff := cmp.Diff(headers, labels); diff != "" {
		t.Errorf("cell labels differ from the column headers (-headers +labels):\n%s", diff)
	}
}
