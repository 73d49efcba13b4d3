package e2e_test

import (
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"
	"ctpdesk/issuerdb"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// pressKey presses one printable key as a keyboard does: a keyDown that carries the key's
// text (Chromium then makes the keypress and the input from it, unless the keydown's default
// is prevented) and a keyUp. chromedp.KeyEvent sends the text as a separate "char" event,
// which no keydown handler can cancel, so it cannot show whether a shortcut swallows its key.
func pressKey(t *testing.T, b *browsertest.Browser, key, code string, keyCode int64) {
	t.Helper()
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: key, Code: code, Text: key, UnmodifiedText: key,
		WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode}
	up := down
	up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(b.Ctx, input.DispatchKeyEvent, ev); err != nil {
			t.Fatalf("press %q: %v", key, err)
		}
	}
}

// TestSearchInChromium types into the search box of a running `ctpdesk dev` in headless
// Chromium: the results update without a page reload and the URL follows the query; "/"
// focuses the box; a result opens the customer page; Back returns to the same search.
func TestSearchInChromium(t *testing.T) {
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": "500", "CTPDESK_DEV_SEED": "7"})
	b := browsertest.New(t, 120*time.Second)
	want := issuerdb.NewGenerator(7).Customer(42)
	query := strings.ToLower(issuerdb.Fold(want.FirstName + " " + want.LastName))

	b.Do(chromedp.Navigate(a.URL + "/customers"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.Do(
		chromedp.SendKeys(chromedp.CSS(`#username`), "agent"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "demo"),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
	)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-search-box]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="search-empty"]`)))

	// "/" focuses the box from anywhere on the page, and is not typed into it.
	evalString(t, b, `document.activeElement && document.activeElement.blur(), ""`)
	pressKey(t, b, "/", "Slash", 191)
	if got := evalString(t, b, `document.activeElement ? document.activeElement.id : ""`); got != "search-box" {
		t.Errorf(`after "/" the focus is on %q, want the search box`, got)
	}
	if got := evalString(t, b, `document.querySelector('[data-search-box]').value`); got != "" {
		t.Errorf(`"/" pressed outside the box left %q in it, want it empty`, got)
	}
	// The same key pressed in the box is typed there: the check above can fail.
	pressKey(t, b, "/", "Slash", 191)
	if got := evalString(t, b, `document.querySelector('[data-search-box]').value`); got != "/" {
		t.Errorf(`"/" typed in the box gives %q, want "/"`, got)
	}
	evalString(t, b, `document.querySelector('[data-search-box]').value = "", ""`)

	// A marker on the window survives only if the page is not reloaded.
	evalString(t, b, `window.__searchMarker = "kept", ""`)
	b.Do(chromedp.SendKeys(chromedp.CSS(`[data-search-box]`), query))
	row := `tr[data-customer-id="` + want.ID + `"]`
	b.Do(chromedp.WaitVisible(chromedp.CSS(row)))
	b.Screenshot("search-results")
	if got := evalString(t, b, `window.__searchMarker || "reloaded"`); got != "kept" {
		t.Error("typing reloaded the page instead of updating the results in place")
	}
	if got := evalString(t, b, `new URLSearchParams(location.search).get("q") || ""`); got != query {
		t.Errorf("the URL holds q=%q, want %q (hx-push-url)", got, query)
	}
	if got := evalString(t, b, `document.querySelector('[data-testid="search-kind"]').dataset.kind`); got != "name" {
		t.Errorf("detected kind %q, want name", got)
	}
	text := evalString(t, b, `document.querySelector('[data-testid="search-results"]').innerText`)
	if strings.Contains(text, want.Email) || strings.Contains(text, want.Phone) {
		t.Error("the results show unmasked contact data")
	}

	// Follow the result, then come back.
	b.Do(chromedp.Click(chromedp.CSS(row + ` a`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#issuer-record[data-customer-id="` + want.ID + `"]`)))
	if got := evalString(t, b, `location.pathname`); got != "/customers/"+want.ID {
		t.Errorf("the result led to %q", got)
	}
	b.Screenshot("customer-issuer-record")
	b.Do(chromedp.NavigateBack())
	b.Do(chromedp.WaitVisible(chromedp.CSS(row)))
	if got := evalString(t, b, `document.querySelector('[data-search-box]').value`); got != query {
		t.Errorf("after Back the box holds %q, want %q", got, query)
	}

	// A query with no match says so.
	evalString(t, b, `document.querySelector('[data-search-box]').value = "", ""`)
	b.Do(chromedp.SendKeys(chromedp.CSS(`[data-search-box]`), "zzzzqx"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-results"]`)))
	b.AssertClean()
}
