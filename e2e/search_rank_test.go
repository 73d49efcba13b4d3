package e2e_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
	"ctpdesk/store"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// pressSpecial presses a key that types nothing (an arrow, Enter, Esc) on the focused
// element, as a keyboard does: a keyDown the page's handlers can cancel, and a keyUp. Enter
// also carries its text, so a form submits as it does when a person presses it.
func pressSpecial(t *testing.T, b *browsertest.Browser, key string) {
	t.Helper()
	codes := map[string]int64{"ArrowDown": 40, "ArrowUp": 38, "Enter": 13, "Escape": 27}
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeRawKeyDown, Key: key, Code: key,
		WindowsVirtualKeyCode: codes[key], NativeVirtualKeyCode: codes[key]}
	if key == "Enter" {
		down.Type, down.Text, down.UnmodifiedText = input.DispatchKeyEventTypeKeyDown, "\r", "\r"
	}
	up := down
	up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(b.Ctx, input.DispatchKeyEvent, ev); err != nil {
			t.Fatalf("press %s: %v", key, err)
		}
	}
}

// waitResults waits until the results on the page are those of query and no request of the
// search form is in flight (htmx runs one form's requests one after the other, so every
// request sent before has been answered).
func waitResults(t *testing.T, b *browsertest.Browser, query string) {
	t.Helper()
	js := `document.querySelector('#search-results') && document.querySelector('#search-results').dataset.query === ` +
		strconv.Quote(query) + ` && !document.querySelector('[data-search-form].htmx-request')`
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the results of %q did not come: %v", query, err)
	}
}

// typeQuery replaces the box's text with query, a key at a time as a person types.
func typeQuery(t *testing.T, b *browsertest.Browser, query string) {
	t.Helper()
	evalString(t, b, `document.querySelector('[data-search-box]').value = "", document.querySelector('[data-search-box]').focus(), ""`)
	b.Do(chromedp.SendKeys(chromedp.CSS(`[data-search-box]`), query))
}

// searchEvents counts the search events of a subject in the dev app's audit trail.
func searchEvents(t *testing.T, a *testApp, subject string) int {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(a.Env["CTPDESK_DATA_DIR"], config.DevDashboardDBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM audit_events WHERE action = 'customer.search' AND actor_sub = ?", subject).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSearchRelevanceInChromium runs the README's name searches on the portfolio `make run`
// seeds (20,000 customers, seed 1): each lists the customer it is meant for on one of the
// first three rows, says how many match and marks what matched in every name.
func TestSearchRelevanceInChromium(t *testing.T) {
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": "20000", "CTPDESK_DEV_SEED": "1"})
	b := browsertest.New(t, 180*time.Second)
	signInChromium(t, b, a.URL, "agent")
	// After sign-in the box has the focus: the agent can type at once.
	if got := evalString(t, b, `document.activeElement ? document.activeElement.id : ""`); got != "search-box" {
		t.Errorf("after sign-in the focus is on %q, want the search box", got)
	}
	showcase := map[string]issuerdb.Showcase{}
	for _, s := range issuerdb.Showcases() {
		showcase[s.Name] = s
	}
	count := regexp.MustCompile(`^Showing 20 of (over )?[0-9,]+$`)
	for _, tc := range []struct {
		query, name string
		marks       []string // the marked parts of the intended customer's name
	}{
		{"zoe", "Zoë Ashworth", []string{"Zoë"}},
		{"nguyen", "Aaliyah Nguyễn", []string{"Nguyễn"}},
		{"smi jo", "John Smith", []string{"Jo", "Smi"}},
	} {
		want := showcase[tc.name]
		if want.ID == "" {
			t.Fatalf("no showcase %s", tc.name)
		}
		typeQuery(t, b, tc.query)
		waitResults(t, b, tc.query)
		ids := strings.Fields(evalString(t, b, `[...document.querySelectorAll('#search-results tr[data-customer-id]')].slice(0, 3).map(r => r.dataset.customerId).join(" ")`))
		found := false
		for _, id := range ids {
			found = found || id == want.ID
		}
		if !found {
			t.Errorf("%q lists %v first, want %s (%s) among the first three", tc.query, ids, want.ID, tc.name)
		}
		text := evalString(t, b, `document.querySelector('[data-testid="result-count"]').textContent`)
		total, _ := strconv.Atoi(evalString(t, b, `document.querySelector('[data-testid="result-count"]').dataset.total`))
		if !count.MatchString(text) || total <= 20 {
			t.Errorf("%q: count %q (total %d), want \"Showing 20 of …\" over more than a page", tc.query, text, total)
		}
		marks := strings.Split(evalString(t, b, `[...document.querySelectorAll('tr[data-customer-id="`+want.ID+`"] a[data-result-link] mark')].map(m => m.textContent).join("|")`), "|")
		if strings.Join(marks, "|") != strings.Join(tc.marks, "|") {
			t.Errorf("%q: %s's name is marked %q, want %q", tc.query, tc.name, marks, tc.marks)
		}
		if n := evalString(t, b, `String([...document.querySelectorAll('#search-results tr[data-customer-id]')].filter(r => !r.querySelector('a[data-result-link] mark')).length)`); n != "0" {
			t.Errorf("%q: %s rows have no mark in their name", tc.query, n)
		}
		if place := evalString(t, b, `document.querySelector('tr[data-customer-id="`+want.ID+`"] [data-testid="customer-place"]').textContent`); strings.TrimSpace(place) == "" {
			t.Errorf("%q: the row says nothing of where %s lives", tc.query, tc.name)
		}
		b.Screenshot("search-" + strings.ReplaceAll(tc.query, " ", "-"))
	}
	b.AssertClean()
}

// TestSearchKeyboardInChromium: ↓ moves from the box into the results and between them, ↑
// back, Esc to the box, and Enter opens the focused result. One Enter is one search in the
// audit trail: typing and pressing Enter before the results came, or pressing Enter on
// results already shown, never records the search twice.
func TestSearchKeyboardInChromium(t *testing.T) {
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": "2000", "CTPDESK_DEV_SEED": "1"})
	b := browsertest.New(t, 180*time.Second)
	signInChromium(t, b, a.URL, "agent")
	const agent = "devidp-agent"
	active := func() string {
		return evalString(t, b, `(() => { const e = document.activeElement; if (!e) return ""; if (e.id) return e.id;
			const r = e.closest('tr[data-customer-id]'); return r ? r.dataset.customerId : e.tagName })()`)
	}

	typeQuery(t, b, "smi jo")
	waitResults(t, b, "smi jo")
	rows := strings.Fields(evalString(t, b, `[...document.querySelectorAll('#search-results tr[data-customer-id]')].map(r => r.dataset.customerId).join(" ")`))
	if len(rows) < 3 {
		t.Fatalf("%d results, want at least 3 to move between", len(rows))
	}
	for _, step := range []struct{ key, want string }{
		{"ArrowDown", rows[0]}, {"ArrowDown", rows[1]}, {"ArrowDown", rows[2]}, {"ArrowUp", rows[1]},
		{"Escape", "search-box"}, {"ArrowDown", rows[0]}, {"ArrowUp", "search-box"}, {"ArrowDown", rows[0]},
	} {
		pressSpecial(t, b, step.key)
		if got := active(); got != step.want {
			t.Fatalf("after %s the focus is on %q, want %q", step.key, got, step.want)
		}
	}
	b.Screenshot("search-keyboard")
	pressSpecial(t, b, "Enter")
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#issuer-record[data-customer-id="` + rows[0] + `"]`)))

	// One Enter, pressed before the results of what was typed came: one search.
	b.Do(chromedp.Navigate(a.URL + "/customers"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-search-box]`)))
	before := searchEvents(t, a, agent)
	b.Do(chromedp.SendKeys(chromedp.CSS(`[data-search-box]`), "jurgen muller"))
	pressSpecial(t, b, "Enter")
	waitResults(t, b, "jurgen muller")
	// Another search after it: the form's requests run in order, so once its results are in,
	// anything the first Enter or its keys still had pending has been answered and recorded.
	typeQuery(t, b, "chloe dubois")
	waitResults(t, b, "chloe dubois")
	if got := searchEvents(t, a, agent) - before; got != 2 {
		t.Errorf("typing, Enter, then another search recorded %d searches, want 2", got)
	}

	// Enter on results already shown searches nothing again.
	before = searchEvents(t, a, agent)
	pressSpecial(t, b, "Enter")
	pressSpecial(t, b, "Enter")
	typeQuery(t, b, "zoe ash")
	waitResults(t, b, "zoe ash")
	if got := searchEvents(t, a, agent) - before; got != 1 {
		t.Errorf("two Enters on shown results, then another search, recorded %d searches, want 1", got)
	}
	if got := evalString(t, b, `location.pathname + " " + new URLSearchParams(location.search).get("q")`); got != "/customers zoe ash" {
		t.Errorf("the URL is %q, want the last search's", got)
	}
	b.AssertClean()
}
