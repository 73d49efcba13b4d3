package e2e_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// uiPage is one screen the UI tour visits: where it is, what marks it as loaded, and an
// optional step that puts it in the state worth seeing (a form opened, a key pressed).
type uiPage struct {
	name, path, ready string
	prepare           func(t *testing.T, b *browsertest.Browser)
}

// setColorScheme makes the page see prefers-color-scheme as scheme ("light" or "dark").
func setColorScheme(t *testing.T, b *browsertest.Browser, scheme string) {
	t.Helper()
	_, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		t.Fatalf("emulate %s colour scheme: %v", scheme, err)
	}
	if got := evalString(t, b, `matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"`); got != scheme {
		t.Fatalf("the page sees the %s scheme, want %s", got, scheme)
	}
}

// checkLayout fails on what makes a page look broken whatever its content: the page scrolling
// sideways, text on a background too close to its own colour in the page's main landmarks, and
// an element with an inline style (the CSP forbids them, so they would silently not apply).
func checkLayout(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	if got := evalString(t, b, `String(document.documentElement.scrollWidth - document.documentElement.clientWidth)`); got != "0" {
		t.Errorf("%s: the page scrolls sideways by %s px", name, got)
	}
	if got := evalString(t, b, `String(document.querySelectorAll('[style]').length)`); got != "0" {
		t.Errorf("%s: %s elements carry a style attribute", name, got)
	}
	// Body text against the page background, from the computed colours.
	contrast := evalString(t, b, `(() => {
	  const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
	  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	  const fg = lum(rgb(getComputedStyle(document.querySelector('main')).color));
	  const paint = el => getComputedStyle(el).backgroundColor;
	  const opaque = c => !/rgba\(.*,\s*0\)$/.test(c) && c !== "transparent";
	  const bg = lum(rgb(opaque(paint(document.body)) ? paint(document.body) : paint(document.documentElement)));
	  return ((Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)).toFixed(2);
	})()`)
	var ratio float64
	fmt.Sscan(contrast, &ratio)
	if ratio < 7 {
		t.Errorf("%s: body text contrast %.2f:1, want at least 7:1", name, ratio)
	}
}

// assertOnlyStatusErrors fails on any console error or CSP violation other than Chromium's
// note of a page answered with one of the expected error statuses (the tour opens a 404 page
// and a refused query on purpose).
func assertOnlyStatusErrors(t *testing.T, b *browsertest.Browser, statuses ...int) {
	t.Helper()
	for _, p := range b.Problems() {
		expected := false
		for _, s := range statuses {
			expected = expected || strings.Contains(p, fmt.Sprintf("status of %d", s))
		}
		if !expected {
			t.Errorf("browser problem: %s", p)
		}
	}
}

// tour visits every page in the light and the dark scheme, checks its layout and saves
// ui-NAME-SCHEME.png into artifacts/.
func tour(t *testing.T, b *browsertest.Browser, base string, pages []uiPage) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		setColorScheme(t, b, scheme)
		for _, p := range pages {
			b.Do(chromedp.Navigate(base + p.path))
			b.Do(chromedp.WaitVisible(chromedp.CSS(p.ready)))
			if p.prepare != nil {
				p.prepare(t, b)
			}
			checkLayout(t, b, p.name+" ("+scheme+")")
			b.Screenshot("ui-" + p.name + "-" + scheme)
		}
	}
}

// readmeScreenshot is the README's picture, relative to the repository root.
const readmeScreenshot = "docs/screenshots/comparison-risk-agent.png"

// updateReadmeScreenshot copies a screenshot over the README's picture.
func updateReadmeScreenshot(t *testing.T, src string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(filepath.Dir(browsertest.ArtifactsDir()), filepath.FromSlash(readmeScreenshot))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUITourInChromium opens every screen of ctpdesk as each role would see it, in the light
// and the dark colour scheme: the signed-out pages, search (empty, results, no match, refused
// query), the customer page of every comparison state as agent and as fraud analyst (with an
// agent's Reveal form open), a 404, the audit trail and the no-access page. Each must lay out
// without sideways scrolling, with readable body text and no inline style, raise no console
// error or CSP violation, and leaves a screenshot in artifacts/. It also takes the README's
// picture from `make run`'s own portfolio (with CTPDESK_UPDATE_SCREENSHOTS=1, over the one in
// docs/screenshots/).
func TestUITourInChromium(t *testing.T) {
	cases := pickComparisonCases(t)
	var failing comparisonCase
	for _, cc := range cases {
		if cc.failing {
			failing = cc
		}
	}
	a := startApp(t, "dev", map[string]string{
		"CTPDESK_DEV_CUSTOMERS":           fmt.Sprint(comparisonCustomers),
		"CTPDESK_DEV_SEED":                fmt.Sprint(comparisonSeed),
		"CTPDESK_SANDBOX_CONSUMER_FAULTS": failing.customer.ConsumerID + "=status=503",
	})
	risk := cases[2]
	comparisonReady := `[data-testid="comparison-body"]`

	t.Run("signed-out", func(t *testing.T) {
		b := browsertest.New(t, 120*time.Second)
		tour(t, b, a.URL, []uiPage{
			{name: "landing", path: "/", ready: `[data-testid="landing"]`},
			{name: "login", path: "/login?next=%2Fcustomers", ready: `[data-testid="login-page"]`},
			{name: "login-expired", path: "/login?expired=1", ready: `[data-testid="session-expired"]`},
			{name: "not-found", path: "/no-such-page", ready: `[data-testid="error"]`},
		})
		assertOnlyStatusErrors(t, b, 404)
	})

	t.Run("agent", func(t *testing.T) {
		b := browsertest.New(t, 300*time.Second)
		signInChromium(t, b, a.URL, "agent")
		pages := []uiPage{
			{name: "search-empty", path: "/customers", ready: `[data-testid="search-empty"]`, prepare: func(t *testing.T, b *browsertest.Browser) {
				evalString(t, b, `document.querySelector('[data-search-box]').focus(), ""`)
			}},
			{name: "search-results", path: "/customers?q=" + url.QueryEscape(strings.ToLower(risk.customer.LastName)), ready: `[data-customer-id]`},
			{name: "search-no-results", path: "/customers?q=zzzzqx", ready: `[data-testid="no-results"]`},
			{name: "search-refused", path: "/customers?q=%25", ready: `[data-testid="search-message"]`},
			{name: "customer-agent", path: "/customers/" + risk.customer.ID + "?show=all", ready: comparisonReady},
			{name: "customer-agent-reveal", path: "/customers/" + risk.customer.ID, ready: comparisonReady, prepare: func(t *testing.T, b *browsertest.Browser) {
				b.Do(chromedp.Click(chromedp.CSS(`#issuer-record [data-field="phone"] [data-testid="reveal-toggle"]`)))
				b.Do(chromedp.WaitVisible(chromedp.CSS(`#issuer-record [data-field="phone"] [data-testid="reveal-submit"]`)))
			}},
			{name: "customer-not-found", path: "/customers/CU99999999", ready: `[data-testid="error"][data-status="404"]`},
		}
		for _, cc := range cases {
			pages = append(pages, uiPage{name: "comparison-" + cc.name, path: "/customers/" + cc.customer.ID, ready: comparisonReady})
		}
		tour(t, b, a.URL, pages)
		assertOnlyStatusErrors(t, b, 400, 404)
	})

	// The README's picture is taken from exactly what `make run` seeds, of the customer the
	// README names, so anyone can open the same screen.
	t.Run("readme", func(t *testing.T) {
		dev := makeRunPortfolio(t)
		c := readmeCustomer(t, dev)
		readme := startApp(t, "dev", map[string]string{
			"CTPDESK_DEV_CUSTOMERS": fmt.Sprint(dev.customers),
			"CTPDESK_DEV_SEED":      fmt.Sprint(dev.seed),
		})
		b := browsertest.New(t, 120*time.Second)
		setScreen(t, b, laptop)
		setColorScheme(t, b, "light")
		signInChromium(t, b, readme.URL, "agent")
		b.Do(chromedp.Navigate(readme.URL + "/customers/" + c.ID))
		b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="risks"]`)))
		checkLayout(t, b, "readme")
		shot := b.Screenshot("ui-readme-" + c.ID)
		if os.Getenv("CTPDESK_UPDATE_SCREENSHOTS") == "1" && shot != "" {
			updateReadmeScreenshot(t, shot)
		}
		b.AssertClean()
	})

	t.Run("fraud", func(t *testing.T) {
		b := browsertest.New(t, 120*time.Second)
		signInChromium(t, b, a.URL, "fraud")
		tour(t, b, a.URL, []uiPage{
			{name: "customer-fraud", path: "/customers/" + risk.customer.ID + "?show=all", ready: comparisonReady},
			{name: "comparison-page-fraud", path: "/customers/" + cases[1].customer.ID + "/comparison?show=all", ready: comparisonReady},
		})
		b.AssertClean()
	})

	t.Run("auditor", func(t *testing.T) {
		b := browsertest.New(t, 120*time.Second)
		signInChromiumAt(t, b, a.URL, "/audit", "auditor")
		tour(t, b, a.URL, []uiPage{
			{name: "audit", path: "/audit", ready: `[data-testid="audit-table"]`},
			{name: "audit-filtered", path: "/audit?action=customer.view", ready: `[data-testid="audit-filter"]`},
		})
		b.AssertClean()
	})

	t.Run("no-access", func(t *testing.T) {
		b := browsertest.New(t, 120*time.Second)
		for _, scheme := range []string{"light", "dark"} {
			setColorScheme(t, b, scheme)
			b.Do(chromedp.Navigate(a.URL + "/login"))
			b.Do(chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)))
			b.Do(chromedp.WaitVisible(chromedp.CSS(`#username`)))
			b.Do(
				chromedp.SendKeys(chromedp.CSS(`#username`), "nobody"),
				chromedp.SendKeys(chromedp.CSS(`#password`), "demo"),
				chromedp.Click(chromedp.CSS(`#sign-in`)),
			)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-access"]`)))
			checkLayout(t, b, "no-access ("+scheme+")")
			b.Screenshot("ui-no-access-" + scheme)
		}
	})

	t.Run("signed-out-after-logout", func(t *testing.T) {
		b := browsertest.New(t, 120*time.Second)
		for _, scheme := range []string{"light", "dark"} {
			setColorScheme(t, b, scheme)
			signInChromium(t, b, a.URL, "agent")
			b.Do(chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
			b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-out"]`)))
			checkLayout(t, b, "signed-out ("+scheme+")")
			b.Screenshot("ui-signed-out-" + scheme)
		}
		b.AssertClean()
	})
}
