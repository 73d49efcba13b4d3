package issuerdb

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mustNamed loads customers with the given names (first, middle, last) into a fresh database
// of the backend, each with one card, the way Seed does: the bare tables, the rows, then the
// indexes. Customer i gets id CustomerID(i).
func mustNamed(t *testing.T, b backend, names [][3]string) *DB {
	t.Helper()
	ctx := context.Background()
	tg, err := parseURL(b.url)
	if err != nil {
		t.Fatal(err)
	}
	sqldb, err := openSQL(tg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	if err := migrate(ctx, sqldb, tg.Engine, 1); err != nil {
		t.Fatal(err)
	}
	at := Epoch.Add(-time.Hour)
	ts := func() any {
		if tg.Engine == postgresDialect {
			return at
		}
		return at.Unix()
	}
	for i, n := range names {
		c := Customer{ID: CustomerID(i), FirstName: n[0], MiddleName: n[1], LastName: n[2]}
		s := deriveSearchColumns(&c)
		q := `INSERT INTO customers (id, consumer_id, first_name, middle_name, last_name, email, email_lower,
			phone, language, country, status, created_at, updated_at, search_name, sort_name, name_key, short_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'en-GB', 'GB', 'active', ?, ?, ?, ?, ?, ?)`
		email := fmt.Sprintf("c%d@example.com", i)
		if _, err := sqldb.ExecContext(ctx, sqlRebind(tg.Engine, q), c.ID, fmt.Sprintf("consumer-%d", i), c.FirstName,
			c.MiddleName, c.LastName, email, email, fmt.Sprintf("+4474000000%02d", i), ts(), ts(),
			s.SearchName, s.SortName, s.NameKey, s.ShortKey); err != nil {
			t.Fatal(err)
		}
		if _, err := sqldb.ExecContext(ctx, sqlRebind(tg.Engine, `INSERT INTO cards (id, customer_id, position, scheme,
			last4, expiry_month, expiry_year, cardholder_name, status) VALUES (?, ?, 0, 'VISA', '1234', 1, 2030, ?, 'active')`),
			fmt.Sprintf("crd_%d", i), c.ID, strings.ToUpper(Fold(c.FirstName+" "+c.LastName))); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, sqldb, tg.Engine, 0); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, b.url, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func sqlRebind(d dialect, q string) string { return (&DB{dialect: d}).rebind(q) }

// TestSearchRanksNames spells out the name ranks on a handful of names: the whole name first,
// then the closest completions of every word of the first and last name, then whole first or
// last names, then the rest (other words, middle names), each rank by name.
func TestSearchRanksNames(t *testing.T) {
	names := [][3]string{
		{"John", "", "Smith"},            // CU00000001
		{"José", "", "Smith"},            // CU00000002
		{"Joëlle", "", "Smit"},           // CU00000003
		{"Amelia", "", "Smith-Jones"},    // CU00000004
		{"David", "John", "Smith"},       // CU00000005
		{"Jonas", "", "Smithers"},        // CU00000006
		{"Mary", "", "Brown"},            // CU00000007
		{"Zoë", "", "Ashworth"},          // CU00000008
		{"Charlotte", "Zoë", "Ashworth"}, // CU00000009
		{"Zoey", "", "Adams"},            // CU00000010
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustNamed(t, b, names)
			for _, tc := range []struct {
				query string
				want  []int // 1-based customer numbers, in result order
			}{
				// Completions, shortest first: John and José Smith, Joëlle Smit, Jonas
				// Smithers; then words elsewhere in the name, by name.
				{"smi jo", []int{1, 2, 3, 6, 5, 4}},
				{"jo smi", []int{1, 2, 3, 6, 5, 4}},
				// The whole last name, by name; then a longer word.
				{"smith", []int{5, 1, 4, 2, 6}},
				// The whole name; John as a middle name comes after it.
				{"john smith", []int{1, 5}},
				{"smith john", []int{1, 5}},
				// A whole first name first; then a longer word and a middle name, by name.
				{"zoe", []int{8, 10, 9}},
				{"ZOË", []int{8, 10, 9}},
				// No whole word: all by name.
				{"zo", []int{10, 9, 8}},
			} {
				page, err := db.Search(context.Background(), Query{Text: tc.query})
				if err != nil {
					t.Fatalf("Search(%q): %v", tc.query, err)
				}
				var got []int
				for _, c := range page.Customers {
					var n int
					fmt.Sscanf(c.ID, "CU%08d", &n)
					got = append(got, n)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Search(%q) (-want +got):\n%s", tc.query, diff)
				}
				if page.Total != len(tc.want) || page.TotalOver {
					t.Errorf("Search(%q): count %d (over %v), want %d", tc.query, page.Total, page.TotalOver, len(tc.want))
				}
			}
		})
	}
}
