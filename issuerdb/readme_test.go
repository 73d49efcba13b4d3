package issuerdb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctpdesk/issuerdb"
)

// The portfolio `make run` seeds: ctpdesk dev's default size and seed.
const (
	devCustomers = 20_000
	devSeed      = 1
)

// readmeExample is a search the README shows and the customer it finds.
type readmeExample struct {
	query, wantID string
}

// readmeExamples are every search the README and the search page's hint give: each
// showcase's, and the customer id example.
func readmeExamples() []readmeExample {
	out := []readmeExample{{"CU00000042", "CU00000042"}, {"cu00000042", "CU00000042"}}
	for _, s := range issuerdb.Showcases() {
		for _, q := range s.Queries {
			out = append(out, readmeExample{q, s.ID})
		}
	}
	john := issuerdb.NewGenerator(devSeed).Customer(1)
	return append(out, readmeExample{john.ConsumerID, john.ID})
}

// TestReadmeExamplesFindTheirCustomer seeds the portfolio `make run` seeds and runs every
// example of the README: each lists the customer it is meant for on one of the first three
// rows. The README must show each example, and name each showcase with its id.
func TestReadmeExamplesFindTheirCustomer(t *testing.T) {
	ctx := context.Background()
	u := "sqlite:" + filepath.Join(t.TempDir(), "issuer.db")
	if err := issuerdb.Seed(ctx, u, devCustomers, devSeed); err != nil {
		t.Fatal(err)
	}
	db, err := issuerdb.Open(ctx, u, issuerdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range readmeExamples() {
		page, err := db.Search(ctx, issuerdb.Query{Text: ex.query})
		if err != nil {
			t.Errorf("%q: %v", ex.query, err)
			continue
		}
		var top []string
		for i, c := range page.Customers {
			if i < 3 {
				top = append(top, c.ID+" "+c.FirstName+" "+c.LastName)
			}
		}
		if !strings.Contains(strings.Join(top, "|"), ex.wantID+" ") {
			t.Errorf("%q lists %v first, want %s among the first three", ex.query, top, ex.wantID)
		}
	}
	for _, q := range []string{"zoe", "nguyen", "smi jo", "4242 smith", "CU00000042", "john.smith@example.co.uk",
		"07400 123456", issuerdb.NewGenerator(devSeed).Customer(1).ConsumerID} {
		if !strings.Contains(string(readme), "`"+q+"`") {
			t.Errorf("the README does not show the example %q", q)
		}
	}
	// Every showcase is named; the customers to open (all but plain matches) with their id.
	for _, s := range issuerdb.Showcases() {
		named := strings.Contains(string(readme), s.Name)
		if s.Scenario != "match" {
			named = strings.Contains(string(readme), "`"+s.ID+"` "+s.Name)
		}
		if !named {
			t.Errorf("the README does not name %s", s)
		}
	}
}
