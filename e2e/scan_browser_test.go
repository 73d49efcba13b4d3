package e2e_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"

	"github.com/chromedp/chromedp"
)

// TestScanJourneyInChromium is a fraud analyst's round trip: start a scan on /scans, watch its
// progress to the summary, open the worklist's risks, decide on the first one, and find the
// decision and the scan's line on that customer's page.
func TestScanJourneyInChromium(t *testing.T) {
	a := startApp(t, "dev", map[string]string{
		"CTPDESK_DEV_CUSTOMERS": "300", "CTPDESK_SCAN_RATE": "0", "CTPDESK_SCAN_SCHEDULE": "off", "CTPDESK_SCAN_CHUNK": "50",
	})
	b := browsertest.New(t, 3*time.Minute)
	signInChromium(t, b, a.URL, "fraud")

	b.Do(chromedp.Navigate(a.URL + "/scans"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="scans-empty"]`)))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="scan-start"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="scan-run"]`)))
	// The runs table reloads itself until the scan has its summary.
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="scan-run"][data-state="finished"] [data-testid="scan-summary"]`)))
	if done, total := evalString(t, b, `document.querySelector('[data-testid="scan-done"]').textContent`),
		evalString(t, b, `document.querySelector('[data-testid="scan-total"]').textContent`); done != "300" || total != "300" {
		t.Errorf("finished scan shows %s of %s customers, want 300 of 300", done, total)
	}
	if risks := evalString(t, b, `document.querySelector('[data-count="withRisks"]').textContent`); risks == "0" {
		t.Error("the scan's summary counts no customer with risks; the sandbox plants some")
	}
	b.Screenshot("scans-finished")
	assertAxeClean(t, b, "scans")

	b.Do(chromedp.Navigate(a.URL + "/worklist?severity=risk"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="worklist-row"]`)))
	b.Screenshot("worklist-risks")
	assertAxeClean(t, b, "worklist")
	id := evalString(t, b, `document.querySelector('[data-testid="worklist-row"]').dataset.customerId`)
	row := `[data-testid="worklist-row"][data-customer-id="` + id + `"]`
	b.Do(chromedp.SetValue(chromedp.CSS(row+` [data-testid="decision-choice"]`), "escalated:suspected-fraud"))
	b.Do(chromedp.Click(chromedp.CSS(row + ` [data-testid="decision-submit"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(row + `[data-state="escalated"]`)))

	b.Do(chromedp.Click(chromedp.CSS(row + ` [data-testid="worklist-open"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="customer-scan"] [data-testid="item-state"][data-state="escalated"]`)))
	if status := evalString(t, b, `document.querySelector('[data-testid="scan-status"]').textContent`); !strings.Contains(status, "Last scanned") {
		t.Errorf("customer page scan line: %q", status)
	}
	// The comparison is still fetched live beside it.
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#comparison [data-testid="directory-column"], #comparison th[data-state]`)))
	b.Screenshot("customer-scanned")
	assertAxeClean(t, b, "customer page with its scan line")
	assertOnlyStatusErrors(t, b)
}

// assertAxeClean runs the vendored axe-core on the current page and fails on any violation.
func assertAxeClean(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	src, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("vendored axe-core: %v", err)
	}
	for _, v := range runAxe(t, b, string(src)) {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, n.HTML)
		}
		t.Errorf("%s: axe %s (%s): %s\n  %s", name, v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
	}
}
