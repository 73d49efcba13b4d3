package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/internal/browsertest"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
)

// portfolio is a synthetic portfolio: its generator seed and size.
type portfolio struct {
	seed      int64
	customers int
}

// makeRunPortfolio is the portfolio `make run` seeds: `ctpdesk dev` with no variable set.
func makeRunPortfolio(tb testing.TB) portfolio {
	tb.Helper()
	cfg, err := config.Load(func(string) string { return "" }, config.ModeDev)
	if err != nil {
		tb.Fatalf("the dev defaults do not load: %v", err)
	}
	return portfolio{seed: cfg.Issuer.DevSeed, customers: cfg.Issuer.DevCustomers}
}

// readmeCustomer is the customer of the README's picture: the first of the portfolio with a
// card reported stolen at the issuer and still enrolled in Visa Click to Pay.
func readmeCustomer(tb testing.TB, p portfolio) issuerdb.Customer {
	tb.Helper()
	g := issuerdb.NewGenerator(p.seed)
	now := time.Now()
	for i := range p.customers {
		c := g.Customer(i)
		for _, f := range sandboxComparison(p.seed, c, now).Findings {
			if f.Kind != reconcile.KindCardBlockedButEnrolled || f.Directory != d1.DirectoryVisa {
				continue
			}
			for _, card := range c.Cards {
				if card.ID == f.CardKey && card.Status == issuerdb.CardStolen {
					return c
				}
			}
		}
	}
	tb.Fatalf("no customer of seed %d (%d customers) has a stolen card still enrolled in Visa", p.seed, p.customers)
	return issuerdb.Customer{}
}

// TestREADMENamesItsScreenshotCustomer: the README says whom its picture shows, by name and
// customer id, and that customer is the one `make run` seeds with a stolen card still enrolled
// in Visa Click to Pay, so a reader can open the same screen.
func TestREADMENamesItsScreenshotCustomer(t *testing.T) {
	c := readmeCustomer(t, makeRunPortfolio(t))
	root := filepath.Dir(browsertest.ArtifactsDir())
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Join(strings.Fields(c.FirstName+" "+c.MiddleName+" "+c.LastName), " ")
	var caption string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.Contains(line, readmeScreenshot) {
			caption = line
		}
	}
	if caption == "" {
		t.Fatalf("README.md does not show %s", readmeScreenshot)
	}
	if !strings.Contains(caption, name) || !strings.Contains(string(readme), "`"+c.ID+"`") {
		t.Errorf("README.md must name the customer of its picture: %s (`%s`); its caption is %q", name, c.ID, caption)
	}
	if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(readmeScreenshot))); err != nil {
		t.Error(err)
	}
}
