package handlers

// Tests of the customer page as a whole: the Reveal controls each role gets in the issuer
// record and in the comparison grid, and the "show" choice the page passes on to the
// comparison it loads.

import (
	"net/http"
	"strings"
	"testing"

	"ctpdesk/issuerdb"
	"ctpdesk/mask"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

func TestCustomerPageRevealControlsForAgentsOnly(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, 50))
	want := issuerdb.NewGenerator(testPortfolioSeed).Customer(5)

	doc := mustDoc(t, get(e, "/customers/"+want.ID, "X-Test-Role", "agent"))
	for field, masked := range map[string]string{"email": mask.MaskEmail(want.Email), "phone": mask.MaskPhone(want.Phone)} {
		ctl := doc.Find(`#issuer-record [data-issuer-field=` + field + `] [data-testid=reveal-field]`)
		if ctl.Length() != 1 {
			t.Errorf("agent: %d Reveal controls for the %s, want 1", ctl.Length(), field)
			continue
		}
		if id := ctl.AttrOr("id", ""); id != "reveal-record-issuer-"+field {
			t.Errorf("%s control id %q", field, id)
		}
		if ctl.AttrOr("data-source", "") != "issuer" || ctl.AttrOr("data-field", "") != field {
			t.Errorf("%s control hooks: source %q field %q", field, ctl.AttrOr("data-source", ""), ctl.AttrOr("data-field", ""))
		}
		if got := ctl.Find(`[data-testid=masked-value]`).Text(); got != masked {
			t.Errorf("%s control shows %q, want the masked %q", field, got, masked)
		}
		if got := ctl.Find(`form`).AttrOr("action", ""); got != "/customers/"+want.ID+"/reveal" {
			t.Errorf("%s control posts to %q", field, got)
		}
	}

	doc = mustDoc(t, get(e, "/customers/"+want.ID, "X-Test-Role", "fraud"))
	if n := doc.Find(`[data-testid=reveal-field]`).Length(); n != 0 {
		t.Errorf("fraud analyst: %d Reveal controls, want none (values are shown whole)", n)
	}
	if got := doc.Find(`[data-issuer-field=email]`).Text(); !strings.Contains(got, want.Email) {
		t.Errorf("fraud analyst's email field %q", got)
	}

	// The JSON twin carries no form.
	body := get(e, "/customers/"+want.ID, "Accept", "application/json").Body.String()
	if strings.Contains(body, "reveal") || strings.Contains(body, "csrf") {
		t.Errorf("JSON twin holds Reveal form fields: %s", body)
	}
}

func TestCustomerPagePassesShowOnToTheComparison(t *testing.T) {
	aud := &searchAuditor{}
	e := newCustomerServerAudited(t, mustIssuerDB(t, 20), aud)
	id := issuerdb.NewGenerator(testPortfolioSeed).Customer(2).ID
	for _, tc := range []struct{ query, want string }{
		{"", "/customers/" + id + "/comparison"},
		{"?show=diff", "/customers/" + id + "/comparison"},
		{"?show=all", "/customers/" + id + "/comparison?show=all"},
	} {
		sec := mustDoc(t, get(e, "/customers/"+id+tc.query)).Find("section#comparison")
		if got := sec.AttrOr("hx-get", ""); got != tc.want {
			t.Errorf("%q: placeholder loads %q, want %q", tc.query, got, tc.want)
		}
		if sec.AttrOr("aria-busy", "") != "true" || sec.AttrOr("data-busy", "x") == "x" {
			t.Errorf("%q: the placeholder is not marked busy until loaded", tc.query)
		}
	}
	before := len(aud.events)
	for _, bad := range []string{"?show=ALL", "?show=%3Cscript%3E", "?show=%00"} {
		rec := get(e, "/customers/"+id+bad)
		if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("%s: status %d, want 400 without echoing the value", bad, rec.Code)
		}
	}
	if len(aud.events) != before {
		t.Errorf("refused requests were recorded as customer views: %d events", len(aud.events)-before)
	}
}

func TestComparisonRevealControlsForAgentsOnly(t *testing.T) {
	s := newComparisonServer(t, okProfiles)
	doc, _ := goquery.NewDocumentFromReader(s.do(http.MethodGet, "/customers/C42/comparison?show=all", "agent", "HX-Request", "true").Body)
	got := map[string]string{}
	doc.Find(`.cmp-grid [data-testid=reveal-field]`).Each(func(_ int, f *goquery.Selection) {
		got[f.AttrOr("id", "")] = f.Find(`[data-testid=masked-value]`).Text()
	})
	// Mastercard holds no profile: its empty cells have nothing to reveal.
	want := map[string]string{
		"reveal-comparison-issuer-email": "z•••@example.com",
		"reveal-comparison-issuer-phone": mask.MaskPhone("+33612345678"),
		"reveal-comparison-visa-email":   "z•••@example.org",
		"reveal-comparison-visa-phone":   mask.MaskPhone("+33612345678"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agent's Reveal controls (-want +got):\n%s", diff)
	}
	doc, _ = goquery.NewDocumentFromReader(s.do(http.MethodGet, "/customers/C42/comparison?show=all", "fraud", "HX-Request", "true").Body)
	if n := doc.Find(`[data-testid=reveal-field]`).Length(); n != 0 {
		t.Errorf("fraud analyst: %d Reveal controls, want none", n)
	}
}
