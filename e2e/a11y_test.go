package e2e_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"

	"github.com/chromedp/chromedp"
)

// axeViolation is the part of an axe-core result the test reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// runAxe injects the vendored axe-core (testdata/axe-core, see its README) into the current
// page through the DevTools protocol, which the page's CSP does not govern, runs it, and
// returns the violations of impact serious or critical.
func runAxe(tb testing.TB, b *browsertest.Browser, axeSource string) []axeViolation {
	tb.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](axeSource+"\n;undefined")); err != nil {
		tb.Fatalf("inject axe-core: %v", err)
	}
	raw, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("run axe-core: %v", err)
	}
	var all []axeViolation
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		tb.Fatalf("axe-core result: %v", err)
	}
	var bad []axeViolation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
		}
	}
	return bad
}

// TestAccessibilityWithAxe runs axe-core on the search page with results, the customer page
// with its comparison loaded (a risk customer, every field shown), and the comparison page of
// its own, as agent, in the dark and the light colour scheme, then on the customer page with a
// Reveal form open, and fails on any serious or critical violation.
func TestAccessibilityWithAxe(t *testing.T) {
	src, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("vendored axe-core: %v", err)
	}
	var risk comparisonCase
	for _, cc := range pickComparisonCases(t) {
		if strings.HasPrefix(cc.name, "risk-") && risk.name == "" {
			risk = cc
		}
	}
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": "300", "CTPDESK_DEV_SEED": "7"})
	b := browsertest.New(t, 180*time.Second)
	signInChromium(t, b, a.URL, "agent")
	pages := []struct {
		name, path, ready string
	}{
		{"search", "/customers?q=" + strings.ToLower(risk.customer.LastName), `[data-customer-id]`},
		{"customer", "/customers/" + risk.customer.ID + "?show=all", `[data-testid="comparison-body"]`},
		{"comparison", "/customers/" + risk.customer.ID + "/comparison?show=all", `[data-testid="comparison-body"]`},
	}
	// Both colour schemes: contrast is checked against the palette the page really uses.
	for _, scheme := range []string{"dark", "light"} {
		setColorScheme(t, b, scheme)
		for _, p := range pages {
			b.Do(chromedp.Navigate(a.URL + p.path))
			b.Do(chromedp.WaitVisible(chromedp.CSS(p.ready)))
			for _, v := range runAxe(t, b, string(src)) {
				var where []string
				for _, n := range v.Nodes {
					where = append(where, n.HTML)
				}
				t.Errorf("%s page (%s): axe %s (%s): %s\n  %s", p.name, scheme, v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
			}
			name := "a11y-" + p.name
			if scheme == "dark" {
				name += "-dark"
			}
			b.Screenshot(name)
		}
	}
	// An agent's Reveal form, open over the record, is checked as well.
	b.Do(chromedp.Navigate(a.URL + "/customers/" + risk.customer.ID))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"]`)))
	b.Do(chromedp.Click(chromedp.CSS(`#issuer-record [data-field="email"] [data-testid="reveal-toggle"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#issuer-record [data-field="email"] [data-testid="reveal-submit"]`)))
	for _, v := range runAxe(t, b, string(src)) {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, n.HTML)
		}
		t.Errorf("customer page with a Reveal form open: axe %s (%s): %s\n  %s", v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
	}
	b.Screenshot("a11y-reveal-open")
	// The check itself must be able to fail: a button without an accessible name planted in
	// the page is a critical violation axe has to report.
	evalString(t, b, `document.querySelector('main').appendChild(document.createElement('button')), ""`)
	planted := runAxe(t, b, string(src))
	if len(planted) == 0 || planted[0].ID != "button-name" {
		t.Errorf("axe did not report a planted unnamed button: %+v", planted)
	}
}
