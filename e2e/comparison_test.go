package e2e_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/browsertest"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// comparisonSeed and comparisonCustomers are the portfolio of the comparison browser tests.
const (
	comparisonSeed      = 7
	comparisonCustomers = 300
)

// comparisonCase is one customer the browser opens and what the page must show for it.
type comparisonCase struct {
	name     string
	customer issuerdb.Customer
	profiles []d1.Profile
	dv       d1sandbox.Derivation
	// failing is set for the customer whose D1 calls the sandbox answers with 503.
	failing bool
}

// pickComparisonCases finds, in the portfolio, the first customer of every sandbox scenario,
// plus one matching customer whose D1 calls will fail. Everything is computed from the seed
// with the generator and the sandbox's derivation, as the running app computes it.
func pickComparisonCases(tb testing.TB) []comparisonCase {
	tb.Helper()
	g := issuerdb.NewGenerator(comparisonSeed)
	wanted := []string{"match", "differs", "risk-closed-card-active", "risk-unknown-card", "risk-contact-takeover", "no-card", "not-enrolled", "d1-failing"}
	found := map[string]comparisonCase{}
	for i := range comparisonCustomers {
		c := g.Customer(i)
		profiles, dv := d1sandbox.Derive(comparisonSeed, c)
		name := string(dv.Kind)
		if dv.Kind == d1sandbox.KindRisk {
			name += "-" + string(dv.Risk)
		}
		if _, ok := found[name]; !ok {
			found[name] = comparisonCase{name: name, customer: c, profiles: profiles, dv: dv}
		} else if name == "match" && len(dv.Directories) > 0 {
			if _, ok := found["d1-failing"]; !ok {
				found["d1-failing"] = comparisonCase{name: "d1-failing", customer: c, profiles: profiles, dv: dv, failing: true}
			}
		}
	}
	var out []comparisonCase
	for _, w := range wanted {
		cc, ok := found[w]
		if !ok {
			tb.Fatalf("no %s customer among the first %d of seed %d", w, comparisonCustomers, comparisonSeed)
		}
		out = append(out, cc)
	}
	return out
}

// expectedCells is what the page must show for a case: every directory cell's verdict, keyed
// "field@DIRECTORY", and each column's state.
func (cc comparisonCase) expectedCells(now time.Time) (map[string]string, map[string]string) {
	var cmp reconcile.Comparison
	if cc.failing {
		cmp = reconcile.CompareUnavailable(cc.customer, reconcile.Failure{}, reconcile.Options{Now: now})
	} else {
		cmp = reconcile.Compare(cc.customer, d1.Result{Profiles: cc.profiles, FetchedAt: now}, reconcile.Options{Now: now})
	}
	cells, states := map[string]string{}, map[string]string{}
	for _, r := range cmp.Rows {
		for i, c := range r.Cells {
			if c.Verdict == "" || !cmp.Columns[i].State.HasProfile() {
				// A cell state, or a directory without a profile (one explained cell for the
				// whole column): no verdict on the page.
				continue
			}
			cells[r.Field+"@"+c.Directory] = string(c.Verdict)
		}
	}
	for _, col := range cmp.Columns {
		states[col.Directory] = string(col.State)
	}
	return cells, states
}

// designVerdicts are the data-verdict values DESIGN.md allows on a comparison cell.
var designVerdicts = map[string]bool{"match": true, "equivalent": true, "differs": true,
	"missing-in-directory": true, "missing-at-issuer": true, "unavailable": true}

// signInChromium signs user in through the development IdP.
func signInChromium(tb testing.TB, b *browsertest.Browser, appURL, user string) {
	tb.Helper()
	b.Do(chromedp.Navigate(appURL + "/customers"))
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

// pageCells reads every directory cell of the comparison on the page.
func pageCells(tb testing.TB, b *browsertest.Browser) (map[string]string, map[string]string) {
	tb.Helper()
	raw := evalString(tb, b, `JSON.stringify({
		cells: Object.fromEntries([...document.querySelectorAll('#comparison td[data-verdict]')].map(td => [td.dataset.field + "@" + td.dataset.directory, td.dataset.verdict])),
		states: Object.fromEntries([...document.querySelectorAll('#comparison thead th[data-state]')].map(th => [th.dataset.directory, th.dataset.state]))
	})`)
	var got struct{ Cells, States map[string]string }
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		tb.Fatalf("page cells: %v", err)
	}
	return got.Cells, got.States
}

// diffMaps lists the keys on which two maps disagree.
func diffMaps(want, got map[string]string) []string {
	var out []string
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			out = append(out, fmt.Sprintf("%s: page %q, want %q", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%s: page %q, not expected", k, g))
		}
	}
	slices.Sort(out)
	return out
}

// TestComparisonInChromium signs in as agent and as fraud, searches a customer of every sandbox
// scenario, opens it, shows all fields, and checks each directory cell's data-verdict and each
// column's state against what the seed and the sandbox's derivation say, the risk shown on
// top, and the masking by role. Screenshots of every state go to artifacts/.
func TestComparisonInChromium(t *testing.T) {
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
	for _, role := range []string{"agent", "fraud"} {
		t.Run(role, func(t *testing.T) {
			b := browsertest.New(t, 120*time.Second)
			signInChromium(t, b, a.URL, role)
			for _, cc := range cases {
				t.Logf("%s: %s", cc.name, cc.customer.ID)
				// Find the customer as an agent does: search by D1 consumer id, open the result,
				// then switch "Differences only" off to see every field.
				row := `tr[data-customer-id="` + cc.customer.ID + `"]`
				b.Do(chromedp.Navigate(a.URL + "/customers?q=" + cc.customer.ConsumerID))
				b.Do(chromedp.WaitVisible(chromedp.CSS(row)))
				b.Do(chromedp.Click(chromedp.CSS(row + ` [data-testid="customer-link"]`)))
				b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"][data-diff-only="true"]`)))
				// Without a profile anywhere there is nothing to filter and no switch: every
				// field is already shown.
				if evalString(t, b, `String(!!document.querySelector('[data-testid="diff-toggle"]'))`) == "true" {
					b.Do(chromedp.Click(chromedp.CSS(`[data-testid="diff-toggle"]`)))
					b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"][data-diff-only="false"]`)))
				}
				wantCells, wantStates := cc.expectedCells(time.Now())
				gotCells, gotStates := pageCells(t, b)
				for key, v := range gotCells {
					if !designVerdicts[v] {
						t.Errorf("%s: data-verdict %q on %s is not one of DESIGN.md's verdicts", cc.name, v, key)
					}
				}
				if d := diffMaps(wantStates, gotStates); len(d) > 0 {
					t.Errorf("%s (%s): column states:\n  %s", cc.name, cc.customer.ID, strings.Join(d, "\n  "))
				}
				if d := diffMaps(wantCells, gotCells); len(d) > 0 {
					t.Errorf("%s (%s): verdicts:\n  %s", cc.name, cc.customer.ID, strings.Join(d, "\n  "))
				}
				checkScenario(t, b, cc, gotCells, gotStates)
				checkMasking(t, b, role, cc)
				b.Screenshot("comparison-" + role + "-" + cc.name)
			}
			b.AssertClean()
		})
	}
}

// checkScenario checks what the sandbox's account of a scenario implies, independently of the
// comparison code: the fields it changed differ, the risk it planted is on top.
func checkScenario(t *testing.T, b *browsertest.Browser, cc comparisonCase, cells, states map[string]string) {
	t.Helper()
	risks := evalString(t, b, `[...document.querySelectorAll('[data-testid="risks"] li')].map(li => li.textContent.trim()).join("\n")`)
	switch {
	case cc.failing:
		if len(cells) != 0 {
			t.Errorf("D1 failing: verdicts %v, want none: nothing was compared", cells)
		}
		outcome := evalString(t, b, `(document.querySelector('[data-testid="comparison-outcome"]') || {innerText: ""}).innerText`)
		if !strings.Contains(outcome, "could not be checked") || !strings.Contains(outcome, "correlation id") {
			t.Errorf("D1 failing: the page does not say first what could not be checked: %q", outcome)
		}
		if strings.Contains(evalString(t, b, `document.querySelector('#comparison').innerText`), "0 risks") {
			t.Error("D1 failing: the page reads 0 risks")
		}
		if !strings.Contains(evalString(t, b, `document.querySelector('#issuer-record').innerText`), cc.customer.LastName) {
			t.Error("D1 failing: the issuer record is not shown")
		}
	case cc.dv.Kind == d1sandbox.KindNotEnrolled:
		for dir, s := range states {
			if s != "not-enrolled" {
				t.Errorf("not enrolled: %s column is %s", dir, s)
			}
		}
	case cc.dv.Kind == d1sandbox.KindNoCard:
		for _, dir := range cc.dv.Directories {
			if states[dir] != "no-card" {
				t.Errorf("no card: %s column is %s", dir, states[dir])
			}
		}
	case cc.dv.Kind == d1sandbox.KindMatch:
		for k, v := range cells {
			if v == "differs" || v == "equivalent" || v == "missing-at-issuer" {
				t.Errorf("match: %s = %s", k, v)
			}
		}
	}
	for _, ch := range cc.dv.Changes {
		field := ch.Field
		switch {
		case strings.HasSuffix(field, ":billingAddress"):
			field = strings.TrimSuffix(field, "billingAddress") + "billing.line1"
		case strings.Count(field, ":") == 1:
			// A card the issuer does not hold: one line of the card matrix, one difference.
			id := strings.TrimPrefix(field, "card:")
			if got := evalString(t, b, `(document.querySelector('#comparison tr[data-card="`+id+`"]') || {dataset: {}}).dataset.difference || ""`); got != "true" {
				t.Errorf("%s: the sandbox added card %s in %s but the card matrix does not mark it as a difference (%q)", cc.name, id, ch.Directory, got)
			}
			continue
		}
		if v := cells[field+"@"+ch.Directory]; v == "match" || v == "" {
			t.Errorf("%s: the sandbox changed %s in %s but the page says %q", cc.name, field, ch.Directory, v)
		}
	}
	wantRisk := map[d1sandbox.Risk]string{
		d1sandbox.RiskClosedCardActive: "at the issuer but still enrolled in",
		d1sandbox.RiskUnknownCard:      "but unknown to the issuer",
		d1sandbox.RiskContactTakeover:  "Email and phone both differ",
	}[cc.dv.Risk]
	switch {
	case wantRisk != "" && !strings.Contains(risks, wantRisk):
		t.Errorf("%s: risks on top = %q, want one saying %q", cc.name, risks, wantRisk)
	case wantRisk == "" && risks != "":
		t.Errorf("%s: unexpected risks %q", cc.name, risks)
	}
}

// checkMasking checks that agents see contact data masked in the comparison and fraud analysts
// see it whole.
func checkMasking(t *testing.T, b *browsertest.Browser, role string, cc comparisonCase) {
	t.Helper()
	text := evalString(t, b, `document.querySelector('#comparison').innerText`)
	email := cc.customer.Email
	switch role {
	case "agent":
		if strings.Contains(text, email) || strings.Contains(text, cc.customer.Phone) {
			t.Errorf("%s: the agent's comparison shows contact data unmasked", cc.name)
		}
	case "fraud":
		if email != "" && !strings.Contains(text, email) {
			t.Errorf("%s: the fraud analyst's comparison lacks the email %q", cc.name, email)
		}
	}
}

// TestComparisonDifferencesOnlyToggle checks that "Differences only" is on by default, that
// switching it off shows every field and puts show=all in the address bar, that a reload keeps
// the choice, that the switch is reachable by keyboard with a visible focus, and that "Refresh
// from D1" works through its CSRF-protected POST.
func TestComparisonDifferencesOnlyToggle(t *testing.T) {
	var differs comparisonCase
	for _, cc := range pickComparisonCases(t) {
		if cc.name == "differs" {
			differs = cc
		}
	}
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": fmt.Sprint(comparisonCustomers), "CTPDESK_DEV_SEED": fmt.Sprint(comparisonSeed)})
	b := browsertest.New(t, 120*time.Second)
	if _, err := chromedp.Call(b.Ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("focus emulation: %v", err)
	}
	signInChromium(t, b, a.URL, "agent")
	b.Do(chromedp.Navigate(a.URL + "/customers/" + differs.customer.ID))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"][data-diff-only="true"]`)))
	countRows := func() int {
		var n int
		fmt.Sscan(evalString(t, b, `String(document.querySelectorAll('#comparison .cmp-grid tbody tr[data-field]').length)`), &n)
		return n
	}
	diffRows := countRows()
	if got := evalString(t, b, `[...document.querySelectorAll('#comparison .cmp-grid tbody tr[data-field]')].filter(tr => ![...tr.querySelectorAll('td[data-verdict]')].some(td => !["match","unavailable"].includes(td.dataset.verdict))).length + ""`); got != "0" {
		t.Errorf("differences only shows %s rows without a difference", got)
	}
	b.Screenshot("comparison-differences-only")
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="diff-toggle"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"][data-diff-only="false"]`)))
	if got := evalString(t, b, `location.search`); got != "?show=all" {
		t.Errorf("after the switch the address is %q, want ?show=all", got)
	}
	all := countRows()
	if all <= diffRows {
		t.Errorf("show all: %d rows, differences only: %d", all, diffRows)
	}
	b.Do(chromedp.Reload())
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"]`)))
	if got := evalString(t, b, `document.querySelector('[data-testid="comparison-body"]').dataset.diffOnly`); got != "false" {
		t.Errorf("after a reload differences only is %s, want the choice kept (false)", got)
	}
	// Keyboard: Tab reaches the switch, and the focused switch shows a focus outline.
	evalString(t, b, `document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), ""`)
	reached := false
	for range 60 {
		b.Do(chromedp.KeyEvent("\t"))
		if evalString(t, b, `document.activeElement ? (document.activeElement.dataset.testid || "") : ""`) == "diff-toggle" {
			reached = true
			break
		}
	}
	if !reached {
		t.Error("Tab never reaches the differences-only switch")
	} else if got := evalString(t, b, `getComputedStyle(document.activeElement).outlineStyle`); got == "none" {
		t.Error("the focused switch shows no focus outline")
	}

	// "Refresh from D1" posts with the CSRF token and swaps in a fresh comparison.
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="refresh"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-notice"]`)))
	if got := evalString(t, b, `document.querySelector('[data-testid="comparison-notice"]').textContent.trim()`); got != "Refreshed from D1." {
		t.Errorf("after refresh the notice says %q", got)
	}
	if got := evalString(t, b, `document.querySelector('[data-testid="comparison-body"]').dataset.diffOnly`); got != "false" {
		t.Errorf("refresh lost the show-all choice (diff-only %s)", got)
	}
	b.Screenshot("comparison-refreshed")

	// Switching back on the reloaded show-all page (whose address still says show=all while
	// the request is made) returns to differences only and takes show=all out of the address.
	b.Do(chromedp.WaitNotPresent(chromedp.CSS(`.htmx-added, .htmx-settling`)))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="diff-toggle"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"][data-diff-only="true"]`)))
	if got := evalString(t, b, `location.search`); got != "" {
		t.Errorf("after switching back the address query is %q, want none", got)
	}
	if got := countRows(); got != diffRows {
		t.Errorf("differences only again: %d rows, want %d", got, diffRows)
	}
	if got := evalString(t, b, `document.querySelector('#comparison').getAttribute('aria-busy')`); got != "false" {
		t.Errorf("the comparison's aria-busy is %q once loaded, want false", got)
	}
	b.AssertClean()
}
