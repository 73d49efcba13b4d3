package issuerdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"ctpdesk/internal/sqlplan"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nyaruka/phonenumbers"
)

// searchCase is a query with the kind it must be detected as. Expected rows come from
// expectedIDs over the generated portfolio, never from literals.
type searchCase struct {
	text string
	kind Kind
}

// searchCases derives queries of every kind from generated customers.
func searchCases(all []Customer) []searchCase {
	c1, c2, c3 := all[7], all[123], all[1999]
	local, domain, _ := strings.Cut(c2.Email, "@")
	num, _ := phonenumbers.Parse(c3.Phone, "")
	cases := []searchCase{
		{c1.Email, KindEmail},
		{strings.ToUpper(c1.Email), KindEmail},
		{"  " + c2.Email + "  ", KindEmail},
		{local + "@", KindEmail},
		{local + "@" + domain[:3], KindEmail},
		{c3.Phone, KindPhone},
		{phonenumbers.Format(num, phonenumbers.INTERNATIONAL), KindPhone},
		{strings.ReplaceAll(phonenumbers.Format(num, phonenumbers.INTERNATIONAL), " ", "-"), KindPhone},
		{c1.Cards[0].Last4, KindLast4},
		{c2.Cards[0].Last4 + " " + strings.ToLower(c2.LastName), KindLast4Name},
		{c2.FirstName + " " + c2.Cards[0].Last4, KindLast4Name},
		{c1.ID, KindCustomerID},
		{strings.ToLower(c2.ID), KindCustomerID},
		{c3.ConsumerID, KindConsumerID},
		{c1.FirstName + " " + c1.LastName, KindName},
		{c1.LastName + " " + c1.FirstName, KindName},
		{Fold(c2.FirstName + " " + c2.MiddleName + " " + c2.LastName), KindName},
		{strings.ToUpper(c3.LastName), KindName},
		{string([]rune(Fold(c3.LastName))[:3]) + " " + string([]rune(Fold(c3.FirstName))[:2]), KindName},
		{"smi jo", KindName},
		{"zoe", KindName},
		{"nguyen", KindName},
		{"lukasz", KindName},
		{"Øyvind", KindName},
		{"oyvind", KindName},
		{"o'sullivan", KindName},
		{"osullivan", KindName},
		{"muller", KindName},
		{"j", KindName},
	}
	// Phone numbers in the national format of the default region (GB).
	for _, c := range all {
		if strings.HasPrefix(c.Phone, "+44") {
			n, _ := phonenumbers.Parse(c.Phone, "")
			cases = append(cases, searchCase{phonenumbers.Format(n, phonenumbers.NATIONAL), KindPhone})
			break
		}
	}
	return cases
}

func TestSearchEveryKind(t *testing.T) {
	all := portfolio(testCustomers)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			for _, sc := range searchCases(all) {
				t.Run(sc.text, func(t *testing.T) {
					p, err := parseQuery(sc.text, "GB")
					if err != nil {
						t.Fatalf("parseQuery: %v", err)
					}
					if p.Kind != sc.kind {
						t.Fatalf("kind = %q, want %q", p.Kind, sc.kind)
					}
					want := expectedIDs(all, p)
					if len(want) == 0 {
						t.Fatalf("the portfolio holds no match for %q: the case proves nothing", sc.text)
					}
					got := searchAll(t, db, sc.text, 7)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("ids (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// searchAll pages through every result of text, limit rows at a time, and checks each page:
// its size, its cards, and that its count and offset agree with the rows all pages return.
func searchAll(t *testing.T, db *DB, text string, limit int) []string {
	t.Helper()
	var ids []string
	var pages []Page
	after := ""
	for n := 0; ; n++ {
		if n > testCustomers {
			t.Fatal("pagination does not end")
		}
		page, err := db.Search(context.Background(), Query{Text: text, After: after, Limit: limit})
		if err != nil {
			t.Fatalf("Search(%q): %v", text, err)
		}
		if len(page.Customers) > limit {
			t.Fatalf("page of %d rows, limit %d", len(page.Customers), limit)
		}
		if page.Offset != len(ids) {
			t.Errorf("Search(%q) page %d: offset %d, want %d", text, n, page.Offset, len(ids))
		}
		for _, c := range page.Customers {
			if len(c.Cards) == 0 {
				t.Errorf("customer %s comes without its cards", c.ID)
			}
			ids = append(ids, c.ID)
		}
		pages = append(pages, page)
		if page.Next == "" {
			break
		}
		if len(page.Customers) != limit {
			t.Fatalf("a page before the last holds %d rows, want %d", len(page.Customers), limit)
		}
		after = page.Next
	}
	wantTotal, wantOver := len(ids), len(ids) > db.countCap
	if wantOver {
		wantTotal = db.countCap
	}
	for n, p := range pages {
		if p.TotalAtLeast {
			// A lower bound only where a test lowered PostgreSQL's count budget, and a true one.
			if db.countBudget == defaultCountBudget || p.Total > len(ids) || p.TotalOver {
				t.Errorf("Search(%q) page %d: count at least %d (over %v) of %d rows", text, n, p.Total, p.TotalOver, len(ids))
			}
			continue
		}
		if p.Total != wantTotal || p.TotalOver != wantOver {
			t.Errorf("Search(%q) page %d: count %d (over %v), want %d (over %v)", text, n, p.Total, p.TotalOver, wantTotal, wantOver)
		}
	}
	return ids
}

// TestSearchPostgresNameLimits lowers PostgreSQL's limits on a name search so that the small
// portfolio takes the paths a large one does: the count's read budget, so that multi-word
// queries count a lower bound; the words merged one run each, so that every prefix is merged
// as a sparse one or, with the sparse rows lowered too, read as the one run of its first
// letter (name_tokens_initial); and both at once. The rows,
// their order and the counts must not change.
func TestSearchPostgresNameLimits(t *testing.T) {
	u := mustPostgresDB(t)
	if u == "" {
		t.Skip("no PostgreSQL")
	}
	all := portfolio(testCustomers)
	db := mustSeeded(t, u, testCustomers, Options{})
	for _, limits := range []struct{ words, sparseRows, budget int }{
		{defaultMaxRunWords, defaultSparseRunRows, 1}, {defaultMaxRunWords, defaultSparseRunRows, 3},
		{defaultMaxRunWords, defaultSparseRunRows, 40},
		// Past no words at all, every prefix of the small portfolio is sparse, or is read as
		// one run once no prefix counts as sparse.
		{0, defaultSparseRunRows, defaultCountBudget},
		{0, 0, defaultCountBudget}, {1, 0, defaultCountBudget}, {0, 0, 40},
	} {
		db.maxRunWords, db.sparseRunRows, db.countBudget = limits.words, limits.sparseRows, limits.budget
		for _, sc := range searchCases(all) {
			if sc.kind != KindName {
				continue
			}
			p, _ := parseQuery(sc.text, "GB")
			if diff := cmp.Diff(expectedIDs(all, p), searchAll(t, db, sc.text, 7)); diff != "" {
				t.Errorf("%d words, %d sparse rows, budget %d, %q (-want +got):\n%s", limits.words, limits.sparseRows, limits.budget, sc.text, diff)
			}
		}
	}
}

// TestSearchPostgresSparsePrefixMergesItsWords: past the words merged one run each, a prefix
// longer than its initial whose rows are few is still merged word by word, and read as one
// run once it counts as dense; a prefix of one or two letters is its initial's run whatever
// its rows.
func TestSearchPostgresSparsePrefixMergesItsWords(t *testing.T) {
	u := mustPostgresDB(t)
	if u == "" {
		t.Skip("no PostgreSQL")
	}
	db := mustSeeded(t, u, testCustomers, Options{})
	// The three-letter prefix of the most rows that starts several words.
	var prefix string
	if err := db.db.QueryRowContext(context.Background(), `SELECT left(token, 3) FROM name_tokens
		WHERE length(token) > 3 GROUP BY 1 HAVING count(DISTINCT token) > 1 ORDER BY count(*) DESC, 1 LIMIT 1`).Scan(&prefix); err != nil {
		t.Fatal(err)
	}
	rows, err := db.prefixRows(context.Background(), prefix, defaultSparseRunRows)
	if err != nil || rows >= defaultSparseRunRows {
		t.Fatalf("%q has %d rows (%v): the case needs fewer than %d", prefix, rows, err, defaultSparseRunRows)
	}
	db.maxRunWords = 1
	r := prefixRunsFor(t, db, prefix)
	if r.prefix != "" || len(r.words) <= db.maxRunWords || len(r.words) > maxSparseRunWords {
		t.Errorf("%q with %d rows: runs %+v, want its words merged", prefix, rows, r)
	}
	for _, initial := range []string{prefix[:1], prefix[:2]} {
		if r := prefixRunsFor(t, db, initial); r.prefix != initial || r.words != nil {
			t.Errorf("%q: runs %+v, want the one run of its initial", initial, r)
		}
	}
	db.sparseRunRows = rows
	if r := prefixRunsFor(t, db, prefix); r.prefix != prefix || r.words != nil {
		t.Errorf("%q as dense: runs %+v, want the one run of its initial", prefix, r)
	}
}

// runRowsPassed runs EXPLAIN ANALYZE of the merge that finds the first page of a one-word
// name search for prefix, read in display order from an index, and returns how many rows its
// scans of name_tokens kept and how many they read and threw away. On a portfolio this small
// the planner may rather sort the prefix's rows from name_tokens_order, which is the cheaper
// plan at twelve thousand customers but not at a million: with sorts turned off it shows the
// ordered run a large portfolio is read from.
func runRowsPassed(t *testing.T, db *DB, prefix string) (kept, passed int) {
	t.Helper()
	ctx := context.Background()
	r := prefixRunsFor(t, db, prefix)
	p, _ := parseQuery(prefix, "GB")
	filter, filterArgs := runFilter("t", p, rankOther, nil, r.driver)
	q, args := db.mergeStatement(r, filter, filterArgs, cursor{}, DefaultLimit+1)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL enable_sort = off"); err != nil {
		t.Fatal(err)
	}
	kept, passed, err = sqlplan.RowsRead(ctx, tx, "name_tokens", db.rebind(q), args...)
	if err != nil {
		t.Fatal(err)
	}
	return kept, passed
}

// prefixRunsFor is the prefix runs a name search for text reads.
func prefixRunsFor(t *testing.T, db *DB, text string) *runs {
	t.Helper()
	p, err := parseQuery(text, "GB")
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.prefixRunsOf(context.Background(), &nameSearch{plan: p})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSearchPostgresThousandsOfWords gives ten thousand customers surnames of their own that
// all start with "m", as a real portfolio's long tail of surnames does: a one-letter search
// must still list every match in order and count them, although one run per word would be a
// statement of more parameters than PostgreSQL takes.
func TestSearchPostgresThousandsOfWords(t *testing.T) {
	u := mustPostgresDB(t)
	if u == "" {
		t.Skip("no PostgreSQL")
	}
	const customers, renamed = 12000, 10000
	all := portfolio(customers)
	db := mustSeeded(t, u, customers, Options{})
	// name_vocab stays as it was, as it does between loads.
	renameSurnames(t, db, all[:renamed], func(i int) string {
		return "M" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)) + "q"
	})
	var words int
	if err := db.db.QueryRowContext(context.Background(),
		"SELECT count(DISTINCT token) FROM name_tokens WHERE token >= 'm' AND token < 'n'").Scan(&words); err != nil || words <= renamed {
		t.Fatalf("%d words start with m (%v): want more than %d", words, err, renamed)
	}
	// A prefix of many words and many rows is read as one run, which for a prefix of one or
	// two letters passes no row of another word: "mb" is not read from the run of "m", whose
	// first rows are those of "ma".
	for _, prefix := range []string{"m", "mb"} {
		if r := prefixRunsFor(t, db, prefix); r.prefix != prefix || r.words != nil {
			t.Errorf("%q: runs %+v, want the one run of its initial", prefix, r)
		}
		if read, passed := runRowsPassed(t, db, prefix); read == 0 || passed != 0 {
			t.Errorf("%q: the first page's merge read %d rows of its run and passed %d others", prefix, read, passed)
		}
	}
	const maxRows = 2000
	for _, text := range []string{"m", "ma", "mb", "ma j", "j m"} {
		p, _ := parseQuery(text, "GB")
		want := expectedIDs(all, p)
		if len(want) <= 50 {
			t.Fatalf("%q matches %d customers: one page, the case proves little", text, len(want))
		}
		var got []string
		var first Page
		for after := ""; ; {
			page, err := db.Search(context.Background(), Query{Text: text, After: after, Limit: 50})
			if err != nil {
				t.Fatalf("Search(%q): %v", text, err)
			}
			if after == "" {
				first = page
			}
			for _, c := range page.Customers {
				got = append(got, c.ID)
			}
			if page.Next == "" || len(got) >= maxRows {
				break
			}
			after = page.Next
		}
		if len(want) > maxRows {
			// "m" holds most of the portfolio: its first pages are enough.
			want = want[:maxRows]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
		// Runs this long make a sparse count a lower bound (see countNamesPostgres); any other
		// count is exact up to the cap.
		exact := first.Total == min(len(want), db.countCap) && first.TotalOver == (len(want) > db.countCap)
		if first.TotalAtLeast && (first.Total > len(want) || first.TotalOver) || !first.TotalAtLeast && !exact {
			t.Errorf("%q: count %d (over %v, at least %v) of %d matches", text, first.Total, first.TotalOver, first.TotalAtLeast, len(want))
		}
	}
}

// TestSearchCountStopsAtCap lowers the count's cap below the matches of broad queries: every
// page then says "over" the cap, on both engines.
func TestSearchCountStopsAtCap(t *testing.T) {
	all := portfolio(testCustomers)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			db.countCap = 40
			for _, text := range []string{"a", "j", "smith", "zoe", "j s"} {
				p, _ := parseQuery(text, "GB")
				want := expectedIDs(all, p)
				if len(want) <= db.countCap {
					t.Fatalf("%q matches %d customers, not more than the cap: the case proves nothing", text, len(want))
				}
				if diff := cmp.Diff(want, searchAll(t, db, text, 25)); diff != "" {
					t.Errorf("%q (-want +got):\n%s", text, diff)
				}
				page, err := db.Search(context.Background(), Query{Text: text, Limit: 25})
				if err != nil || page.Total != db.countCap || !page.TotalOver || page.TotalAtLeast {
					t.Errorf("%q: count %d (over %v, at least %v), %v; want over %d", text, page.Total, page.TotalOver, page.TotalAtLeast, err, db.countCap)
				}
			}
		})
	}
}

// TestSearchPostgresCountIsBounded: PostgreSQL's count reads at most its budget of name-run
// rows; past it, with no more than the cap matching, it says how many it found, as a lower
// bound, and it says a count is exact only when the runs ended within the budget.
func TestSearchPostgresCountIsBounded(t *testing.T) {
	u := mustPostgresDB(t)
	if u == "" {
		t.Skip("no PostgreSQL")
	}
	all := portfolio(testCustomers)
	db := mustSeeded(t, u, testCustomers, Options{})
	db.countBudget = 60
	for _, tc := range []struct {
		text    string
		atLeast bool
	}{
		// Sparse: the runs of "j" are longer than the budget, "s" matches fewer than the cap.
		{"j s", true},
		// The runs of "lukasz" fit in the budget: exact.
		{"lukasz", false},
	} {
		p, _ := parseQuery(tc.text, "GB")
		want := len(expectedIDs(all, p))
		if want <= 10 {
			t.Fatalf("%q matches %d customers: one page, nothing to count", tc.text, want)
		}
		page, err := db.Search(context.Background(), Query{Text: tc.text, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalAtLeast != tc.atLeast || page.TotalOver || page.Total > want || page.Total > db.countBudget ||
			!tc.atLeast && page.Total != want {
			t.Errorf("%q: count %d (at least %v, over %v), %d match; want at least %v", tc.text, page.Total,
				page.TotalAtLeast, page.TotalOver, want, tc.atLeast)
		}
	}
}

// TestSearchResultsCarryRecordsAndCardSummaries checks that a search result is the whole
// customer record with its cards in stored order, each card as far as a result shows it (id,
// customer, scheme, last 4, status), while Get still loads the whole card; and the page limits.
func TestSearchResultsCarryRecordsAndCardSummaries(t *testing.T) {
	all := portfolio(testCustomers)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			ctx := context.Background()
			for _, i := range []int{42, 7, 1999} {
				page, err := db.Search(ctx, Query{Text: all[i].ID})
				if err != nil {
					t.Fatal(err)
				}
				want := all[i]
				want.Cards = nil
				for _, d := range all[i].Cards {
					want.Cards = append(want.Cards, Card{ID: d.ID, CustomerID: d.CustomerID, Scheme: d.Scheme,
						Last4: d.Last4, Status: d.Status})
				}
				if len(want.Cards) == 0 {
					t.Fatalf("%s has no cards to compare", all[i].ID)
				}
				if diff := cmp.Diff([]Customer{want}, page.Customers); diff != "" {
					t.Errorf("search for %s (-want +got):\n%s", all[i].ID, diff)
				}
				whole, err := db.Get(ctx, all[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(all[i], whole); diff != "" {
					t.Errorf("Get(%s) (-want +got):\n%s", all[i].ID, diff)
				}
			}
			page, err := db.Search(ctx, Query{Text: all[42].Cards[0].Last4})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Customers {
				for _, d := range c.Cards {
					if d.ID == "" || d.CustomerID != c.ID || d.Scheme == "" || len(d.Last4) != 4 || d.Status == "" {
						t.Errorf("card search: %s's card is not summarised: %+v", c.ID, d)
					}
				}
			}
			page, err = db.Search(ctx, Query{Text: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Customers) != DefaultLimit || page.Next == "" {
				t.Errorf("default page: %d rows, next %q; want %d rows and a next page", len(page.Customers), page.Next, DefaultLimit)
			}
			page, err = db.Search(context.Background(), Query{Text: "a", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Customers) != MaxLimit {
				t.Errorf("limit 1000 gave %d rows, want the maximum %d", len(page.Customers), MaxLimit)
			}
		})
	}
}

func TestSearchBadInput(t *testing.T) {
	all := portfolio(testCustomers)
	mustReject := []string{"", " ", "   \t  ", strings.Repeat("a", MaxQueryLen+1), "smith\x00", "jo\x1bhn",
		"\xff\xfe", "zo\xc3", `"`, `""`, "*", "--", "%", "_", "%%", "__", "% _", "'", "();", "smith 12345",
		"4242 4343 smith", "@example.com", "a@b@c", "john smith@example.com", "+", "+44 abc 1234",
		strings.Repeat("a ", 9)}
	// Search syntax of FTS5, tsquery and SQL must be searched for as plain name text.
	mustRunAsText := []string{"NEAR", "OR", "near or", "smith OR jones", `"smith"`, "smi*", "NEAR(smith jones)",
		"'; DROP TABLE customers; --", "smith -- jones", "jo%", "jo_n", "AND", "NOT smith", "smith & jones",
		"smith | jones", "!smith", "smith:*", "Zoë\u0301", "ZOË", strings.Repeat("é", MaxQueryLen)}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			ctx := context.Background()
			for _, text := range mustReject {
				_, err := db.Search(ctx, Query{Text: text})
				var qe *QueryError
				if !errors.As(err, &qe) || !errors.Is(err, ErrInvalidQuery) || qe.Message == "" {
					t.Errorf("Search(%q) = %v, want a QueryError", text, err)
					continue
				}
				if strings.Contains(strings.ToLower(qe.Message), "sql") || strings.Contains(qe.Message, "fts") {
					t.Errorf("Search(%q) message leaks internals: %q", text, qe.Message)
				}
			}
			for _, text := range mustRunAsText {
				p, err := parseQuery(text, "GB")
				if err != nil {
					t.Errorf("parseQuery(%q): %v", text, err)
					continue
				}
				want := expectedIDs(all, p)
				got := searchAll(t, db, text, 50)
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("Search(%q) (-want +got):\n%s", text, diff)
				}
			}
			var n int
			if err := db.db.QueryRow("SELECT count(*) FROM customers").Scan(&n); err != nil || n != testCustomers {
				t.Errorf("customers after hostile queries: %d, %v", n, err)
			}
		})
	}
}

func TestSearchBadCursor(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			ctx := context.Background()
			page, err := db.Search(ctx, Query{Text: "a", Limit: 2})
			if err != nil || page.Next == "" {
				t.Fatalf("first page: %v, next %q", err, page.Next)
			}
			for _, after := range []string{"garbage!", "e30", page.Next + "x", strings.Repeat("A", 2000),
				cursor{Kind: KindName, Phase: 7}.encode(), cursor{Kind: KindName, Phase: -1}.encode(),
				cursor{Kind: KindName, Ord: -1}.encode(), cursor{Kind: KindName, Phase: rankCompletion, Len: -3}.encode(),
				cursor{Kind: KindName, Len: maxCursorLen + 1}.encode(), cursor{Kind: KindName, Shown: -20}.encode(),
				cursor{Kind: KindName, Shown: MaxSeedCustomers + 1}.encode()} {
				if _, err := db.Search(ctx, Query{Text: "a", After: after}); !errors.Is(err, ErrInvalidQuery) {
					t.Errorf("after %q: err = %v, want ErrInvalidQuery", after, err)
				}
			}
			// A cursor of one kind of search cannot continue another.
			if _, err := db.Search(ctx, Query{Text: "1234", After: page.Next}); !errors.Is(err, ErrInvalidQuery) {
				t.Errorf("name cursor on a last-4 search: err = %v, want ErrInvalidQuery", err)
			}
		})
	}
}

func TestSearchPhoneRegion(t *testing.T) {
	all := portfolio(testCustomers)
	var us Customer
	for _, c := range all {
		if strings.HasPrefix(c.Phone, "+1") {
			us = c
			break
		}
	}
	national := fmt.Sprintf("(%s) %s-%s", us.Phone[2:5], us.Phone[5:8], us.Phone[8:])
	db := mustSeeded(t, "sqlite:"+t.TempDir()+"/issuer.db", testCustomers, Options{PhoneRegion: "us"})
	page, err := db.Search(context.Background(), Query{Text: national})
	if err != nil {
		t.Fatal(err)
	}
	if page.Kind != KindPhone || len(page.Customers) == 0 || page.Customers[0].Phone != us.Phone {
		t.Errorf("Search(%q) with region US = %+v, want %s", national, page, us.ID)
	}
}

// TestSearchSaysWhenItsRowsAreFound: Query.Found is called once, with the kind and the number
// of rows the page holds, before the matches are counted and the cards read (a context
// cancelled from Found fails what comes after it), and never for an invalid query.
func TestSearchSaysWhenItsRowsAreFound(t *testing.T) {
	all := portfolio(testCustomers)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, testCustomers, Options{})
			for _, text := range []string{"j", all[3].ID, all[5].Cards[0].Last4} {
				var kinds []Kind
				var rows []int
				q := Query{Text: text, Limit: 10, Found: func(k Kind, n int) { kinds, rows = append(kinds, k), append(rows, n) }}
				page, err := db.Search(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1 || kinds[0] != page.Kind || rows[0] != len(page.Customers) {
					t.Errorf("%q: Found(%v, %v), want once (%s, %d)", text, kinds, rows, page.Kind, len(page.Customers))
				}
				ctx, cancel := context.WithCancel(context.Background())
				q.Found = func(Kind, int) { cancel() }
				if _, err := db.Search(ctx, q); !errors.Is(err, context.Canceled) {
					t.Errorf("%q: with the context cancelled in Found, Search returned %v, want it cancelled", text, err)
				}
			}
			called := false
			if _, err := db.Search(context.Background(), Query{Text: "%", Found: func(Kind, int) { called = true }}); !errors.Is(err, ErrInvalidQuery) || called {
				t.Errorf("invalid query: %v, Found called: %v", err, called)
			}
		})
	}
}
