package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"

	"github.com/chromedp/chromedp"
)

// e2eCustomer reads one customer of the dev app's issuer database.
func e2eCustomer(t *testing.T, a *testApp, id string) issuerdb.Customer {
	t.Helper()
	idb, err := issuerdb.Open(context.Background(), "sqlite:"+filepath.Join(a.Env["CTPDESK_DATA_DIR"], config.DevIssuerDBFile), issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer idb.Close()
	c, err := idb.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signInChromiumAt signs user in through the development IdP starting from path, where the
// browser lands afterwards.
func signInChromiumAt(tb testing.TB, b *browsertest.Browser, appURL, path, user string) {
	tb.Helper()
	b.Do(chromedp.Navigate(appURL + path))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.Do(
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), "demo"),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
	)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-name"]`)))
}

// findAuditEvent has the auditor filter the trail by customer id through the form and returns
// the actions of the rows listed.
func findAuditEvent(t *testing.T, b *browsertest.Browser, appURL, customerID string) []string {
	t.Helper()
	b.Do(chromedp.Navigate(appURL + "/audit"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-filter"]`)))
	b.Do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid="filter-customer"]`), customerID),
		chromedp.Click(chromedp.CSS(`[data-testid="filter-submit"]`)),
	)
	// The filter input's value attribute comes from the server: it marks the filtered page.
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="filter-customer"][value="` + customerID + `"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="audit-row"][data-customer-id="` + customerID + `"]`)))
	raw := evalString(t, b, `[...document.querySelectorAll('[data-testid="audit-row"]')].map(r => r.dataset.customerId + " " + r.dataset.action).join("\n")`)
	var actions []string
	for _, line := range strings.Split(raw, "\n") {
		id, action, _ := strings.Cut(line, " ")
		if id != customerID {
			t.Errorf("the filtered trail lists customer %q", id)
		}
		actions = append(actions, action)
	}
	return actions
}

// TestAuditPageInChromium: an agent's comparison view shows up when the auditor filters the
// trail by the customer id; the chain status says verified; the page raises no console error
// or CSP violation; agents cannot open /audit.
func TestAuditPageInChromium(t *testing.T) {
	a := startApp(t, "dev", nil)
	const id = "CU00000011"

	// The agent's view is made over HTTP: this test is about the auditor's page.
	client := newBrowserlikeClient(t)
	devLogin(t, client, a.URL, "agent").Body.Close()
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/customers/"+id+"/comparison", nil)
	req.Header.Set("HX-Request", "true")
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("agent's comparison view: %v %v", resp, err)
	}
	resp.Body.Close()

	agent := browsertest.New(t, 90*time.Second)
	signInChromium(t, agent, a.URL, "agent")
	agent.Do(chromedp.Navigate(a.URL + "/audit"))
	agent.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="error"][data-status="403"]`)))

	auditor := browsertest.New(t, 90*time.Second)
	signInChromiumAt(t, auditor, a.URL, "/audit", "auditor")
	actions := findAuditEvent(t, auditor, a.URL, id)
	if !strings.Contains(strings.Join(actions, " "), "comparison.view") {
		t.Errorf("the auditor does not find the agent's comparison view: %v", actions)
	}
	state := evalString(t, auditor, `document.querySelector('[data-testid="chain-status"]').dataset.state`)
	if state != "verified" {
		t.Errorf("chain status %q, want verified", state)
	}
	auditor.Screenshot("audit-trail")
	auditor.AssertClean()
	for _, p := range agent.Problems() {
		// The refused /audit itself is the one error the agent's console may show.
		if !strings.Contains(p, "status of 403") || !strings.Contains(p, "/audit") {
			t.Errorf("agent's browser: %s", p)
		}
	}
}

// TestRevealInChromium: an agent reveals the customer's phone number with a reason, sees it in
// place, and the auditor then finds the reveal by customer id.
func TestRevealInChromium(t *testing.T) {
	a := startApp(t, "dev", nil)
	const id = "CU00000007"
	cust := e2eCustomer(t, a, id)

	agent := browsertest.New(t, 90*time.Second)
	signInChromium(t, agent, a.URL, "agent")
	agent.Do(chromedp.Navigate(a.URL + "/customers/" + id))
	control := `[data-testid="reveal-field"][data-field="phone"][data-source="issuer"]`
	// The control may be in the issuer half or in the comparison htmx loads after it.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if evalString(t, agent, `String(!!document.querySelector('`+control+`'))`) == "true" {
			break
		}
		if time.Now().After(deadline) {
			agent.Screenshot("reveal-missing")
			t.Fatalf("the customer page has no Reveal control for the issuer's phone (%s): embed views.RevealControl built by handlers.RevealForm", control)
		}
	}
	if text := evalString(t, agent, `document.body.innerText`); strings.Contains(text, cust.Phone) {
		t.Fatal("the agent sees the phone number before revealing it")
	}
	agent.Do(chromedp.Click(chromedp.CSS(control + ` [data-testid="reveal-toggle"]`)))
	agent.Do(chromedp.WaitVisible(chromedp.CSS(control + ` [data-testid="reveal-reason"]`)))
	agent.Do(
		chromedp.SetValue(chromedp.CSS(control+` [data-testid="reveal-reason"]`), "customer_verified"),
		chromedp.Click(chromedp.CSS(control+` [data-testid="reveal-submit"]`)),
	)
	revealed := `[data-testid="revealed"][data-field="phone"][data-source="issuer"] [data-testid="revealed-value"]`
	agent.Do(chromedp.WaitVisible(chromedp.CSS(revealed)))
	if got := evalString(t, agent, `document.querySelector('`+revealed+`').textContent`); got != cust.Phone {
		t.Errorf("revealed %q, want %q", got, cust.Phone)
	}
	agent.Screenshot("reveal-phone")
	agent.AssertClean()

	auditor := browsertest.New(t, 90*time.Second)
	signInChromiumAt(t, auditor, a.URL, "/audit", "auditor")
	actions := findAuditEvent(t, auditor, a.URL, id)
	if !strings.Contains(strings.Join(actions, " "), "field.reveal") {
		t.Errorf("the auditor does not find the reveal: %v", actions)
	}
	details := evalString(t, auditor, `document.querySelector('[data-testid="audit-row"][data-action="field.reveal"] .audit-details').textContent`)
	if !strings.Contains(details, "field=phone") || !strings.Contains(details, "reason=customer_verified") || strings.Contains(details, cust.Phone) {
		t.Errorf("reveal details %q: want field and reason, never the value", details)
	}
	auditor.AssertClean()
}

// TestRevealInComparisonInChromium: in the comparison grid an agent reveals a directory's
// email. "Other" without a ticket id is refused in place; with one, the directory's own value
// shows; a reload masks it again; no two controls on the page share an id.
func TestRevealInComparisonInChromium(t *testing.T) {
	var cc comparisonCase
	var dir string
	var emails []string
	for _, c := range pickComparisonCases(t) {
		for _, p := range c.profiles {
			if c.name == "differs" && len(p.Consumer.Emails) > 0 && dir == "" {
				cc, dir, emails = c, p.Directory, p.Consumer.Emails
			}
		}
	}
	if dir == "" {
		t.Fatal("the differs customer has no directory profile with an email")
	}
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": fmt.Sprint(comparisonCustomers), "CTPDESK_DEV_SEED": fmt.Sprint(comparisonSeed)})
	b := browsertest.New(t, 90*time.Second)
	signInChromium(t, b, a.URL, "agent")
	b.Do(chromedp.Navigate(a.URL + "/customers/" + cc.customer.ID + "?show=all"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"]`)))
	if dup := evalString(t, b, `(() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id); return ids.filter((id, i) => ids.indexOf(id) !== i).join(" "); })()`); dup != "" {
		t.Errorf("ids used twice on the customer page: %s", dup)
	}
	if evalString(t, b, `document.querySelector('[aria-busy="true"]') ? "busy" : "idle"`) != "idle" {
		t.Error("the page stays aria-busy after the comparison loaded")
	}
	control := `#comparison [data-testid="reveal-field"][data-field="email"][data-source="` + dir + `"]`
	if text := evalString(t, b, `document.querySelector('#comparison').innerText`); strings.Contains(text, emails[0]) {
		t.Fatal("the agent sees the directory's email before revealing it")
	}
	b.Do(chromedp.Click(chromedp.CSS(control + ` [data-testid="reveal-toggle"]`)))
	b.Do(chromedp.SetValue(chromedp.CSS(control+` [data-testid="reveal-reason"]`), "other"))
	b.Do(chromedp.Click(chromedp.CSS(control + ` [data-testid="reveal-submit"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(control + ` [data-testid="reveal-error"]`)))
	if msg := evalString(t, b, `document.querySelector('`+control+` [data-testid="reveal-error"]').textContent`); !strings.HasPrefix(msg, "Enter the ticket id") {
		t.Errorf("refused without a ticket id: %q", msg)
	}
	b.Screenshot("reveal-refused")
	// htmx wires the swapped-in form up as the swap settles; a click before that would post
	// the form the plain way, leaving the page.
	b.Do(chromedp.WaitNotPresent(chromedp.CSS(`.htmx-added, .htmx-settling`)))
	b.Do(
		chromedp.SendKeys(chromedp.CSS(control+` [data-testid="reveal-reference"]`), "CS-4711"),
		chromedp.Click(chromedp.CSS(control+` [data-testid="reveal-submit"]`)),
	)
	revealed := `#comparison [data-testid="revealed"][data-field="email"][data-source="` + dir + `"]`
	b.Do(chromedp.WaitVisible(chromedp.CSS(revealed)))
	got := evalString(t, b, `[...document.querySelectorAll('`+revealed+` [data-testid="revealed-value"]')].map(e => e.textContent).join(" ")`)
	if got != strings.Join(emails, " ") {
		t.Errorf("revealed %q, want the %s emails %q", got, dir, emails)
	}
	b.Screenshot("reveal-comparison")
	b.Do(chromedp.Reload())
	b.Do(chromedp.WaitVisible(chromedp.CSS(control)))
	if text := evalString(t, b, `document.body.innerText`); strings.Contains(text, emails[0]) {
		t.Error("after a reload the revealed email still shows")
	}
	for _, p := range b.Problems() {
		// The refused attempt is answered 422, which Chromium and htmx log.
		if !strings.Contains(p, "status of 422") && !strings.Contains(p, "Error Code 422") {
			t.Errorf("browser problem: %s", p)
		}
	}
}
