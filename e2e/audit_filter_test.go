package e2e_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"

	"github.com/chromedp/chromedp"
)

// TestAuditFiltersInChromium: the auditor finds the agent by "agent", by "Alex" and by the
// start of the agent's email (the filter takes the start of a subject, a name or the email of
// the latest sign-in in any case, and suggests recent actors with their email),
// filters by an ISO 8601 UTC time typed as text, is stopped by the browser and then by the
// server on a time that is not one, and opens a customer's access history from a row.
func TestAuditFiltersInChromium(t *testing.T) {
	a := startApp(t, "dev", nil)
	const id = "CU00000004"
	client := newBrowserlikeClient(t)
	devLogin(t, client, a.URL, "agent").Body.Close()
	for _, path := range []string{"/customers/" + id, "/customers?q=lukasz+nowak"} {
		resp, err := client.Get(a.URL + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("agent's %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}

	b := browsertest.New(t, 120*time.Second)
	signInChromiumAt(t, b, a.URL, "/audit", "auditor")
	if got := evalString(t, b, `[...document.querySelectorAll('#actor-suggestions option')].map(o => o.value).join(" ")`); !strings.Contains(got, "devidp-agent") {
		t.Errorf("the actor field suggests %q, not the agent", got)
	}
	if got := evalString(t, b, `[...document.querySelectorAll('#actor-suggestions option')].map(o => o.label).join("|")`); !strings.Contains(got, "Alex Agent · agent@devidp.invalid") {
		t.Errorf("the suggestions are labelled %q, without the agent's email", got)
	}
	filter := func(field, value string) {
		t.Helper()
		evalString(t, b, `document.querySelector('[data-testid="filter-actor"]').value = "", document.querySelector('[data-testid="filter-from"]').value = "", ""`)
		b.Do(chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-`+field+`"]`), value))
		b.Do(chromedp.Click(chromedp.CSS(`[data-testid="filter-submit"]`)))
		b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="filter-` + field + `"][value="` + value + `"]`)))
	}
	for _, actor := range []string{"agent", "Alex", "ALEX AG", "Agent@DevIDP"} {
		filter("actor", actor)
		names := evalString(t, b, `[...new Set([...document.querySelectorAll('[data-testid="audit-row"]')].map(r => r.children[2].firstChild.textContent.trim()))].join("|")`)
		if names != "Alex Agent" {
			t.Errorf("actor %q lists rows of %q, want Alex Agent's only", actor, names)
		}
	}
	b.Screenshot("audit-actor-filter")

	filter("from", "2000-01-01T00:00Z")
	if got := evalString(t, b, `document.querySelector('[data-testid="audit-range"]').textContent`); got != "Events from 2000-01-01T00:00:00Z (UTC)." {
		t.Errorf("range line %q", got)
	}
	iso := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
	for _, tm := range strings.Split(evalString(t, b, `[...document.querySelectorAll('[data-testid="audit-row"] time')].map(t => t.textContent).join("|")`), "|") {
		if !iso.MatchString(tm) {
			t.Errorf("a row's time reads %q, not ISO 8601 UTC", tm)
		}
	}
	// The browser refuses to send a time that is not ISO 8601 …
	evalString(t, b, `document.querySelector('[data-testid="filter-from"]').value = "", ""`)
	b.Do(chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-from"]`), "12/01/2026"))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="filter-submit"]`)))
	if got := evalString(t, b, `document.querySelector('[data-testid="filter-from"]').matches(':invalid') ? "invalid" : "valid"`); got != "invalid" {
		t.Errorf("the browser takes %q as a time", "12/01/2026")
	}
	// … and the server says why when one arrives anyway.
	b.Do(chromedp.Navigate(a.URL + "/audit?from=12%2F01%2F2026"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-problem"]`)))
	if got := evalString(t, b, `document.querySelector('[data-testid="filter-from"]').getAttribute('aria-invalid') + " " + document.querySelector('[data-testid="filter-from"]').value`); got != "true 12/01/2026" {
		t.Errorf("the refused time field reads %q, want it marked and holding what was typed", got)
	}
	b.Screenshot("audit-bad-time")

	// A row's customer id opens that customer's access history.
	b.Do(chromedp.Navigate(a.URL + "/audit"))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="audit-row"][data-customer-id="` + id + `"] [data-testid="customer-history-link"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-history"][data-customer-id="` + id + `"]`)))
	rows := evalString(t, b, `[...document.querySelectorAll('[data-testid="audit-row"]')].map(r => r.dataset.customerId + " " + r.dataset.action).join("|")`)
	if !strings.Contains(rows, id+" customer.view") || strings.Contains(rows, "audit.read") {
		t.Errorf("the history of %s lists %q, want the agent's view and no reads of the trail", id, rows)
	}
	for _, r := range strings.Split(rows, "|") {
		if !strings.HasPrefix(r, id+" ") {
			t.Errorf("the history of %s lists %q", id, r)
		}
	}
	b.Screenshot("audit-customer-history")
	for _, p := range b.Problems() {
		// The refused filter's 400 is the one error the console may show.
		if !strings.Contains(p, "status of 400") {
			t.Errorf("browser problem: %s", p)
		}
	}
}
