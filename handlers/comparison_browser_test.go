package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/internal/browsertest"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestComparisonHostileDataInChromium renders a directory profile full of hostile values in
// headless Chromium, under the app's real CSP and stylesheet: markup and script stay text,
// direction overrides and control characters are shown as code points, a 10,000-character
// value is cut in the grid and readable in full on focus, and the page never grows wider than
// the window.
func TestComparisonHostileDataInChromium(t *testing.T) {
	hostile := viewResult()
	p := &hostile.Profiles[0]
	p.Consumer.FirstName = `<img src=x onerror="window.__xss=1">`
	p.Consumer.MiddleName = `<script>window.__xss=2</script>👩🏽‍💻🇫🇷`
	p.Consumer.LastName = "\u202Enitram\u2066" + strings.Repeat("W", 10000)
	p.Consumer.Emails = []string{"a\x00b\x1b[31m@example.org", strings.Repeat("x", 300) + "@example.org"}
	p.Cards[0].CardholderName = strings.Repeat("ZOË MARTIN ", 40)
	p.Cards[0].BillingAddress.Line1 = "\u200F\u202B1 Rue\u202C de la Paix"
	s := newComparisonServer(t, func(string) (d1.Result, error) { return hostile, nil })
	srv := httptest.NewServer(fraudOnly(s))
	t.Cleanup(srv.Close)

	b := browsertest.New(t, 90*time.Second)
	focusPage(t, b)
	b.Do(chromedp.Navigate(srv.URL + "/customers/C42/comparison?show=all"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"]`)))
	b.Screenshot("comparison-hostile")

	if got := evalIn(t, b, `String(window.__xss || "")`); got != "" {
		t.Fatalf("directory data ran script: window.__xss = %s", got)
	}
	if got := evalIn(t, b, `String(document.querySelectorAll('#comparison img, #comparison script').length)`); got != "0" {
		t.Errorf("%s live img/script elements in the comparison", got)
	}
	if got := evalIn(t, b, `String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the page is wider than the window: %s > %s", evalIn(t, b, `String(document.documentElement.scrollWidth)`), evalIn(t, b, `String(window.innerWidth)`))
	}
	if got := evalIn(t, b, `String([...document.querySelectorAll('.cmp-scroll')].every(s => s.querySelector('table').offsetWidth <= s.clientWidth + 1))`); got != "true" {
		t.Error("a long value widened the grid beyond its container")
	}
	text := evalIn(t, b, `document.querySelector('#comparison').innerText`)
	for _, want := range []string{"[U+202E]", "[U+2066]", "[U+0000]", "[U+001B]", "[U+200F]", "👩🏽‍💻", `<img src=x onerror="window.__xss=1">`} {
		if !strings.Contains(text, want) {
			t.Errorf("the comparison does not show %q as text", want)
		}
	}
	if strings.ContainsAny(text, "\u202E\u2066\u200F\x00\x1b") {
		t.Error("a direction or control character reached the page as is")
	}

	// The cut last name: hidden full text until focused, then readable in a box.
	full := `document.querySelector('td[data-field="lastName"][data-directory="VISA"] .val-full')`
	if got := evalIn(t, b, full+`.getBoundingClientRect().height <= 1 ? "hidden" : "shown"`); got != "hidden" {
		t.Errorf("full text of a cut value is %s before focus", got)
	}
	evalIn(t, b, `document.querySelector('td[data-field="lastName"][data-directory="VISA"] .val-trunc').focus(), ""`)
	if got := evalIn(t, b, full+`.getBoundingClientRect().height > 20 ? "shown" : "hidden"`); got != "shown" {
		t.Errorf("full text of a cut value is %s on focus", got)
	}
	if got := evalIn(t, b, full+`.textContent.length >= 10000 ? "whole" : "cut"`); got != "whole" {
		t.Error("the focused value does not hold the full text")
	}
	b.Screenshot("comparison-hostile-focused")
	b.AssertClean()
}

// fraudOnly serves the comparison server's routes as a fraud analyst, for the browser, which
// cannot send the test's role header.
func fraudOnly(s *comparisonServer) *roleServer { return &roleServer{s: s, role: "fraud"} }

// roleServer adds the X-Test-Role header to every request.
type roleServer struct {
	s    *comparisonServer
	role string
}

func (r *roleServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	req.Header.Set("X-Test-Role", r.role)
	r.s.e.ServeHTTP(w, req)
}

// focusPage makes the headless page behave as the focused window, as it is for a person:
// without it Chromium matches no :focus rule.
func focusPage(tb testing.TB, b *browsertest.Browser) {
	tb.Helper()
	if _, err := chromedp.Call(b.Ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		tb.Fatalf("focus emulation: %v", err)
	}
}

// evalIn evaluates JavaScript returning a string in the browser's page.
func evalIn(tb testing.TB, b *browsertest.Browser, js string) string {
	tb.Helper()
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", js, err)
	}
	return out
}
