package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/browsertest"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// screen is a viewport the layout is checked at.
type screen struct {
	name          string
	width, height int64
	// mobile makes the page's meta viewport apply, as on a phone: a page too wide for the
	// screen then widens the layout viewport instead of being cut off.
	mobile bool
}

// The screens of the layout test: a laptop, and a phone (iPhone 12 to 15, portrait).
var (
	laptop = screen{name: "1440", width: 1440, height: 900}
	phone  = screen{name: "390", width: 390, height: 844, mobile: true}
)

// setScreen makes the tab the given screen.
func setScreen(t *testing.T, b *browsertest.Browser, s screen) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if s.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	b.Do(chromedp.EmulateViewport(s.width, s.height, opts...))
}

// overflow describes what of the page lies beyond the right edge of a screen width px wide:
// the document itself (on a phone, a page too wide for the screen widens the layout viewport,
// so innerWidth is checked against the screen too), the header's controls, and the values of
// the comparison and the issuer record, which may sit in a scrolling region the document's
// width does not show. "" when nothing does.
func overflow(t *testing.T, b *browsertest.Browser, width int64) string {
	t.Helper()
	return evalString(t, b, fmt.Sprintf(`(() => {
	  const w = %d, out = [];
	  const doc = document.documentElement.scrollWidth;
	  if (doc > window.innerWidth || window.innerWidth > w) {
	    out.push("the document is " + doc + " px wide, the layout viewport " + window.innerWidth + " px, on a " + w + " px screen");
	  }
	  const beyond = (sel, what) => {
	    for (const el of document.querySelectorAll(sel)) {
	      const r = el.getBoundingClientRect();
	      if (r.width > 0 && Math.round(r.right) > w) { out.push(what + " ends at " + Math.round(r.right) + " px"); return; }
	    }
	  };
	  beyond('.app-header a, .app-header button, .app-header [data-testid="user-name"]', "a header control");
	  beyond('#comparison th[data-directory], #comparison td[data-directory], #comparison td[data-source]', "a comparison cell");
	  beyond('#issuer-record dd, #issuer-record td', "an issuer record value");
	  return out.join("; ");
	})()`, width))
}

// fieldBoxes returns where each field of the issuer record sits: its field name and the left
// and top of its box.
func fieldBoxes(t *testing.T, b *browsertest.Browser) []string {
	t.Helper()
	raw := evalString(t, b, `JSON.stringify([...document.querySelectorAll('[data-testid="record-fields"] > .rf')].map(rf => {
	  const r = rf.getBoundingClientRect();
	  return rf.querySelector("dd").dataset.issuerField + " at " + Math.round(r.left) + "," + Math.round(r.top);
	}))`)
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// pickRecordPair finds two customers of the comparison portfolio with short names, one with a
// middle name and a second address line and one with neither, to see the record's fields
// stay put between them.
func pickRecordPair(tb testing.TB) (full, sparse issuerdb.Customer) {
	tb.Helper()
	g := issuerdb.NewGenerator(comparisonSeed)
	for i := range comparisonCustomers {
		c := g.Customer(i)
		if len(c.FirstName+c.MiddleName+c.LastName) > 22 {
			continue
		}
		switch {
		case full.ID == "" && c.MiddleName != "" && c.Address.Line2 != "":
			full = c
		case sparse.ID == "" && c.MiddleName == "" && c.Address.Line2 == "":
			sparse = c
		}
	}
	if full.ID == "" || sparse.ID == "" {
		tb.Fatalf("no pair of customers with and without a middle name among the first %d of seed %d", comparisonCustomers, comparisonSeed)
	}
	return full, sparse
}

// sandboxComparison is the comparison the dev app shows for c: the issuer record beside what
// the D1 sandbox of the same seed answers for it.
func sandboxComparison(seed int64, c issuerdb.Customer, now time.Time) reconcile.Comparison {
	profiles, _ := d1sandbox.Derive(seed, c)
	return reconcile.Compare(c, d1.Result{Profiles: profiles, FetchedAt: now}, reconcile.Options{Now: now})
}

// pickAllMatch finds the first customer of the comparison portfolio who holds a profile in
// every directory and whose comparison differs nowhere: the page says all fields match.
func pickAllMatch(tb testing.TB) issuerdb.Customer {
	tb.Helper()
	g := issuerdb.NewGenerator(comparisonSeed)
	now := time.Now()
	for i := range comparisonCustomers {
		c := g.Customer(i)
		cmp := sandboxComparison(comparisonSeed, c, now)
		differs := false
		for _, col := range cmp.Columns {
			differs = differs || !col.State.HasProfile()
		}
		for _, r := range cmp.Rows {
			differs = differs || r.Different()
		}
		if !differs {
			return c
		}
	}
	tb.Fatalf("no customer matching everywhere among the first %d of seed %d", comparisonCustomers, comparisonSeed)
	return issuerdb.Customer{}
}

// TestLayoutOnLaptopAndPhoneInChromium opens the search (with a recently viewed list), customer,
// comparison and audit pages at 1440×900 and on a 390×844 phone, in the light and the dark
// scheme. None may scroll sideways; on the phone the header keeps Sign out on screen and the
// comparison shows every directory's cells without a sideways scroll. The issuer record's
// fields sit in the same places for a customer with a middle name and a second address line
// as for one without. Each screen is saved as layout-WIDTH-NAME-SCHEME.png in artifacts/.
func TestLayoutOnLaptopAndPhoneInChromium(t *testing.T) {
	cases := pickComparisonCases(t)
	a := startApp(t, "dev", map[string]string{
		"CTPDESK_DEV_CUSTOMERS": fmt.Sprint(comparisonCustomers),
		"CTPDESK_DEV_SEED":      fmt.Sprint(comparisonSeed),
	})
	byName := map[string]comparisonCase{}
	for _, cc := range cases {
		byName[cc.name] = cc
	}
	risk, notEnrolled := byName["risk-closed-card-active"], byName["not-enrolled"]
	match := pickAllMatch(t)
	full, sparse := pickRecordPair(t)
	comparisonReady := `[data-testid="comparison-body"]`

	check := func(t *testing.T, b *browsertest.Browser, s screen, pages []uiPage) {
		t.Helper()
		setScreen(t, b, s)
		for _, scheme := range []string{"light", "dark"} {
			setColorScheme(t, b, scheme)
			for _, p := range pages {
				b.Do(chromedp.Navigate(a.URL + p.path))
				b.Do(chromedp.WaitVisible(chromedp.CSS(p.ready)))
				if p.prepare != nil {
					p.prepare(t, b)
				}
				if got := overflow(t, b, s.width); got != "" {
					t.Errorf("%s (%s) at %d px: %s", p.name, scheme, s.width, got)
				}
				checkLayout(t, b, fmt.Sprintf("%s (%s, %d px)", p.name, scheme, s.width))
				b.Screenshot("layout-" + s.name + "-" + p.name + "-" + scheme)
			}
		}
	}

	t.Run("agent", func(t *testing.T) {
		b := browsertest.New(t, 300*time.Second)
		signInChromium(t, b, a.URL, "agent")
		// Open a few customers first, so the search page has a recently viewed list to lay out.
		for _, id := range []string{notEnrolled.customer.ID, match.ID, risk.customer.ID} {
			b.Do(chromedp.Navigate(a.URL + "/customers/" + id))
			b.Do(chromedp.WaitVisible(chromedp.CSS(comparisonReady)))
		}
		pages := []uiPage{
			{name: "search-recent", path: "/customers", ready: `[data-testid="recently-viewed"] [data-recent-customer]`},
			{name: "search-results", path: "/customers?q=" + url.QueryEscape(strings.ToLower(risk.customer.LastName)), ready: `[data-customer-id]`},
			{name: "customer-risk", path: "/customers/" + risk.customer.ID + "?show=all", ready: comparisonReady},
			{name: "customer-all-match", path: "/customers/" + match.ID, ready: `[data-testid="grid-empty"]`, prepare: func(t *testing.T, b *browsertest.Browser) {
				if got := evalString(t, b, `document.querySelector('[data-testid="grid-empty"]').textContent`); !regexp.MustCompile(`^All \d+ fields match\.$`).MatchString(got) {
					t.Errorf("the grid of a customer matching everywhere says %q", got)
				}
			}},
			{name: "customer-not-enrolled", path: "/customers/" + notEnrolled.customer.ID, ready: comparisonReady},
			{name: "comparison-page", path: "/customers/" + risk.customer.ID + "/comparison?show=all", ready: comparisonReady},
		}
		for _, s := range []screen{laptop, phone} {
			check(t, b, s, pages)
			// The record's fields do not move with the data.
			var boxes [][]string
			for _, c := range []issuerdb.Customer{full, sparse} {
				b.Do(chromedp.Navigate(a.URL + "/customers/" + c.ID))
				b.Do(chromedp.WaitVisible(chromedp.CSS(comparisonReady)))
				boxes = append(boxes, fieldBoxes(t, b))
			}
			if len(boxes[0]) != 12 {
				t.Errorf("at %d px the record has %d fields, want 12", s.width, len(boxes[0]))
			}
			if diff := cmp.Diff(boxes[0], boxes[1]); diff != "" {
				t.Errorf("at %d px the record's fields move between %s (middle name, two address lines) and %s (neither) (-full +sparse):\n%s",
					s.width, full.ID, sparse.ID, diff)
			}
		}
		b.AssertClean()
	})

	t.Run("auditor", func(t *testing.T) {
		b := browsertest.New(t, 120*time.Second)
		signInChromiumAt(t, b, a.URL, "/audit", "auditor")
		for _, s := range []screen{laptop, phone} {
			check(t, b, s, []uiPage{{name: "audit", path: "/audit", ready: `[data-testid="audit-table"]`}})
		}
		b.AssertClean()
	})
}
