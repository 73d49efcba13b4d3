package issuerdb

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"ctpdesk/internal/pgtest"
	"ctpdesk/internal/sqldialect"
	"ctpdesk/internal/sqlplan"
)

// searchEveryShape runs queries of every kind and their second pages, so that every statement
// shape a search uses is run at least once.
func searchEveryShape(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	var texts []string
	for _, c := range searchCases(portfolio(testCustomers)) {
		texts = append(texts, c.text)
	}
	texts = append(texts, mixedQueries(benchQueries(testCustomers))[:200]...)
	for _, text := range texts {
		p, err := db.Search(ctx, Query{Text: text, Limit: 5})
		if err != nil {
			t.Fatalf("Search(%q): %v", text, err)
		}
		if p.Next != "" {
			if _, err := db.Search(ctx, Query{Text: text, Limit: 5, After: p.Next}); err != nil {
				t.Fatalf("Search(%q) page 2: %v", text, err)
			}
		}
	}
}

// TestSearchPreparesEachStatementOnce checks that searches keep a small, fixed set of
// prepared statements: a second round of the same kinds with other values prepares nothing
// new, and a closed DB refuses to search.
func TestSearchPreparesEachStatementOnce(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			searchEveryShape(t, db)
			kept := db.stmts.Len()
			if kept == 0 {
				t.Fatal("no statement was prepared and kept")
			}
			if kept > 100 {
				t.Errorf("%d statements kept: the texts should come from a small fixed set", kept)
			}
			ctx := context.Background()
			// The same page length as the first round: on PostgreSQL the cards statement has a
			// text per number of customers on a page (see oneOf).
			for _, q := range mixedQueries(benchQueries(testCustomers))[200:400] {
				if _, err := db.Search(ctx, Query{Text: q, Limit: 5}); err != nil {
					t.Fatalf("Search(%q): %v", q, err)
				}
			}
			if got := db.stmts.Len(); got != kept {
				t.Errorf("after a second round of the same kinds %d statements are kept, want still %d", got, kept)
			}
			if _, err := db.Get(ctx, CustomerID(1)); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := db.Search(ctx, Query{Text: "smith"}); err == nil {
				t.Error("Search on a closed DB succeeded")
			}
			if _, err := db.Get(ctx, CustomerID(1)); !errors.Is(err, sqldialect.ErrClosed) {
				t.Errorf("Get on a closed DB = %v, want sqldialect.ErrClosed", err)
			}
		})
	}
}

// fullScan matches a query plan line that reads a whole table of the portfolio.
var fullScan = regexp.MustCompile(`^SCAN (customers|cards|name_order|name_given_words|name_words|c|o)( |$)`)

// TestSearchPlansUseTheIndexes checks the plan of every statement a SQLite search keeps. They
// are written with "+?" (see DB.rebind), so a plan does not depend on the values bound and
// EXPLAIN QUERY PLAN of the bare text shows the plan every call runs: none reads a whole table.
func TestSearchPlansUseTheIndexes(t *testing.T) {
	url := backends(t)[0].url
	db := mustSeeded(t, url, testCustomers, Options{})
	searchEveryShape(t, db)
	texts := db.stmts.Texts()
	if len(texts) == 0 {
		t.Fatal("no statement kept")
	}
	for _, text := range texts {
		if strings.Count(text, "?") != strings.Count(text, "+?") {
			t.Errorf("a bare parameter, whose value the planner would look at, in %s", text)
		}
		// Every parameter NULL: the plan is the same whatever they hold.
		plan := mustPlan(t, db, text, make([]any, strings.Count(text, "?"))...)
		for _, line := range plan {
			if fullScan.MatchString(line) {
				t.Errorf("plan of %s\nreads a whole table:\n%s", text, strings.Join(plan, "\n"))
			}
		}
	}
}

// TestCardSearchTestsNamesInTheIndex checks that a card search with a name word tests the
// names of the last 4's customers in customers_id_name alone, the page's ids first and only
// those customers' rows after, on both engines, and that it still finds exactly the customers
// holding a card with the last 4 whose names have a word starting with the query's word; and
// that a plain card search takes its pages of ids in order from cards_last4 and finds every
// holder of the last 4 once.
func TestCardSearchTestsNamesInTheIndex(t *testing.T) {
	all := portfolio(testCustomers)
	c := all[42]
	word := Fold(c.LastName)[:3]
	text := c.Cards[0].Last4 + " " + word
	var want []string
	for _, o := range all {
		has := false
		for _, d := range o.Cards {
			has = has || d.Last4 == c.Cards[0].Last4
		}
		if has && strings.Contains(" "+deriveSearchColumns(&o).SearchName, " "+word) {
			want = append(want, o.ID)
		}
	}
	if len(want) == 0 {
		t.Fatalf("nobody matches %q", text)
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			page, err := db.Search(context.Background(), Query{Text: text, Limit: MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range page.Customers {
				got = append(got, o.ID)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("search %q found %v, want %v", text, got, want)
			}
			checkKeptPlan(t, db, []string{"SELECT m.id FROM customers m", "search_name"},
				"SEARCH m USING COVERING INDEX customers_id_name (id=?)", "Index Only Scan using customers_id_name",
				c.Cards[0].Last4, "% "+word+"%", "", MaxLimit+1)

			// A plain card search takes its page of ids from cards_last4 alone, in order; the
			// last 4 held by the most customers, so that it takes pages.
			byLast4 := map[string][]string{}
			common := ""
			for _, o := range all {
				seen := map[string]bool{}
				for _, d := range o.Cards {
					if !seen[d.Last4] {
						seen[d.Last4] = true
						byLast4[d.Last4] = append(byLast4[d.Last4], o.ID)
					}
					if len(byLast4[d.Last4]) > len(byLast4[common]) {
						common = d.Last4
					}
				}
			}
			holders := byLast4[common]
			var ids []string
			for after := ""; ; {
				page, err := db.Search(context.Background(), Query{Text: common, Limit: 2, After: after})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Customers {
					ids = append(ids, o.ID)
				}
				if after = page.Next; after == "" || len(ids) > len(holders) {
					break
				}
			}
			if strings.Join(ids, " ") != strings.Join(holders, " ") || len(holders) < 3 {
				t.Errorf("card search %s, two a page, found %v, want %v", common, ids, holders)
			}
			checkKeptPlan(t, db, []string{"FROM cards WHERE last4 = ", "AND customer_id > "},
				"SEARCH cards USING COVERING INDEX cards_last4 (last4=? AND customer_id>?)", "Index Only Scan using cards_last4",
				common, "", 3)
		})
	}
}

// checkKeptPlan checks the plan of every kept statement whose text holds all of marks: on
// SQLite it must hold sqliteStep and sort nothing afterwards, on PostgreSQL (explained with
// pgArgs, sequential scans priced out) pgStep. It fails when no kept statement has the marks.
func checkKeptPlan(t *testing.T, db *DB, marks []string, sqliteStep, pgStep string, pgArgs ...any) {
	t.Helper()
	found := false
	for _, q := range db.stmts.Texts() {
		if !containsAll(q, marks) {
			continue
		}
		found = true
		var plan, want string
		if db.dialect == sqliteDialect {
			plan, want = strings.Join(mustPlan(t, db, q, make([]any, strings.Count(q, "?"))...), "\n"), sqliteStep
			if strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan of %s\nsorts after the lookup:\n%s", q, plan)
			}
		} else {
			plan, want = mustPostgresPlan(t, db, q, pgArgs...), pgStep
		}
		if !strings.Contains(plan, want) {
			t.Errorf("plan of %s\nhas no %q:\n%s", q, want, plan)
		}
	}
	if !found {
		t.Errorf("no kept statement holds %q", marks)
	}
}

// containsAll says whether s holds every one of subs.
func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// mustPlan is SQLite's plan of query, one line per step.
func mustPlan(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	plan, err := sqlplan.Explain(context.Background(), db.db, sqliteDialect, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestCardsOfUsesTheCustomerIndex checks that the cards of a page of customers (one JSON array
// parameter on SQLite) and of one customer (one "= ?") are looked up in cards_customer, in
// order, on both engines, and that exactly those customers' cards are loaded.
func TestCardsOfUsesTheCustomerIndex(t *testing.T) {
	ctx := context.Background()
	all := portfolio(testCustomers)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			for _, which := range [][]int{{5, 1500, 42}, {1500}} {
				ids := make([]string, len(which))
				for k, i := range which {
					ids[k] = all[i].ID
				}
				cards, err := db.cardsOf(ctx, ids)
				if err != nil {
					t.Fatal(err)
				}
				if len(cards) != len(ids) {
					t.Errorf("cards of %d customers, want %d", len(cards), len(ids))
				}
				for _, i := range which {
					got := cards[all[i].ID]
					if len(got) != len(all[i].Cards) {
						t.Fatalf("%s: %d cards, want %d", all[i].ID, len(got), len(all[i].Cards))
					}
					for j := range got {
						if got[j].ID != all[i].Cards[j].ID {
							t.Errorf("%s card %d = %s, want %s (stored order)", all[i].ID, j, got[j].ID, all[i].Cards[j].ID)
						}
					}
				}
				cond, args, err := db.oneOf(ids)
				if err != nil {
					t.Fatal(err)
				}
				q := db.rebind("SELECT id FROM cards WHERE customer_id " + cond + " ORDER BY customer_id, position")
				var plan string
				if db.dialect == sqliteDialect {
					plan = strings.Join(mustPlan(t, db, q, args...), "\n")
					if strings.Contains(plan, "TEMP B-TREE") {
						t.Errorf("%d customers: cards are sorted after the lookup:\n%s", len(ids), plan)
					}
				} else {
					plan = mustPostgresPlan(t, db, q, args...)
				}
				if !strings.Contains(plan, "cards_customer") {
					t.Errorf("%d customers: cards are not looked up in cards_customer:\n%s", len(ids), plan)
				}
			}
		})
	}
}

// mustPostgresPlan explains query with sequential scans priced out of reach, so the plan
// names an index whenever one can serve the condition, however small the test portfolio.
func mustPostgresPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "RESET enable_seqscan")
	plan, err := sqlplan.Explain(ctx, conn, postgresDialect, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestPostgresKeepsNoUnusedNameIndex: the full-text GIN index over search_name, which no
// search reads, is dropped by the migrations, and the indexes the name searches do read stay.
func TestPostgresKeepsNoUnusedNameIndex(t *testing.T) {
	url := mustPostgresDB(t)
	if url == "" {
		// Only outside CI: there mustPostgresDB fails the test when no server is configured.
		t.Skip("the index is PostgreSQL's; " + pgtest.EnvVar + " is not set")
	}
	db := mustSeeded(t, url, 50, Options{})
	rows, err := db.db.QueryContext(context.Background(), "SELECT indexname FROM pg_indexes WHERE tablename = 'customers'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if have["customers_search_name"] {
		t.Error("customers_search_name, which no search reads, is still there")
	}
	for _, want := range []string{"customers_name_key", "customers_short_key", "customers_sort_name", "customers_id_name"} {
		if !have[want] {
			t.Errorf("%s is missing; have %v", want, have)
		}
	}
}
