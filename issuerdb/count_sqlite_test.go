package issuerdb

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNameWordsAreTheIndexedWords checks that name_words holds exactly the distinct words of
// search_name, after a seed and after migrating a database from before the table, and that
// every word of the generated names folds to a–z and 0–9, the words the SQLite count writes
// prefixes out as (see ftsCountQuery).
func TestNameWordsAreTheIndexedWords(t *testing.T) {
	for _, c := range cultures {
		for _, name := range slices.Concat(c.First, c.Middle, c.Last) {
			for _, w := range nameTokens(name) {
				if !isLowerAlnumASCII(w) {
					t.Errorf("%s name %q folds to %q, not of a–z and 0–9", c.Country, name, w)
				}
			}
		}
	}
	ctx := context.Background()
	db := mustSeeded(t, backends(t)[0].url, testCustomers, Options{})
	seen := map[string]bool{}
	for _, c := range portfolio(testCustomers) {
		for _, w := range strings.Fields(deriveSearchColumns(&c).SearchName) {
			seen[w] = true
		}
	}
	want := make([]string, 0, len(seen))
	for w := range seen {
		want = append(want, w)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, mustStrings(t, db, "SELECT word FROM name_words ORDER BY word")); diff != "" {
		t.Errorf("name_words after a seed (-search_name words +name_words):\n%s", diff)
	}
	if err := migrateDownTo(ctx, db.db, sqliteDialect, 3); err != nil {
		t.Fatal(err)
	}
	if got := mustStrings(t, db, "SELECT name FROM sqlite_schema WHERE name = 'name_words'"); len(got) != 0 {
		t.Fatal("name_words is still there after migrating down")
	}
	if err := migrate(ctx, db.db, sqliteDialect, 0); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, mustStrings(t, db, "SELECT word FROM name_words ORDER BY word")); diff != "" {
		t.Errorf("name_words after migrating (-search_name words +name_words):\n%s", diff)
	}
}

// TestSQLiteCountMatchesThePrefixQuery checks that the name count's query, with long words
// written out as the words they start, matches exactly the customers the plain prefix query
// matches, for queries of one to three words, prefixes of one to eight letters, diacritics,
// middle names and prefixes nobody's name starts with; and once more with the write-out cap
// lowered so that long prefixes stay prefixes too.
func TestSQLiteCountMatchesThePrefixQuery(t *testing.T) {
	const n = 3000
	all := portfolio(n)
	db := mustSeeded(t, backends(t)[0].url, n, Options{})
	texts := []string{"zoë", "chloë", "nguyễn", "Müller", "łukasz", "Ó Súilleabháin", "smith", "mart", "garcia",
		"smithx", "qqqq", "zzzzzzzz", "smith jones", "john smith", "jo sm"}
	for i := 0; i < n; i += 41 {
		c := &all[i]
		first, middle, last := Fold(c.FirstName), Fold(c.MiddleName), Fold(c.LastName)
		for k := 1; k <= 8; k++ {
			texts = append(texts, prefix(last, k), prefix(middle, k), prefix(first, k)+" "+prefix(last, k),
				prefix(first, k)+" "+prefix(middle, 9-k)+" "+prefix(last, k+1), prefix(last, k)+"x")
		}
	}
	ctx := context.Background()
	for _, limit := range []int{defaultMaxWrittenOut, 2} {
		db.maxWrittenOut = limit
		var writtenOut, nobody, keptPrefix int
		for _, text := range texts {
			p, err := parseQuery(text, "GB")
			if err != nil || p.Kind != KindName {
				continue
			}
			old := ftsPrefixQuery(p.Tokens)
			match, none, err := db.ftsCountQuery(ctx, p.Tokens)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			switch {
			case none:
				nobody++
			case match != old:
				writtenOut++
				got = mustStrings(t, db, "SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? ORDER BY rowid", match)
			default:
				got = mustStrings(t, db, "SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? ORDER BY rowid", match)
				if slices.ContainsFunc(p.Tokens, func(t string) bool { return len(t) > indexedPrefixLen }) {
					keptPrefix++
				}
			}
			want := mustStrings(t, db, "SELECT rowid FROM customer_fts WHERE customer_fts MATCH ? ORDER BY rowid", old)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("limit %d, %q: %s (-prefix query +count query %s):\n%s", limit, text, old, match, diff)
			}
			count, err := db.countNamesSQLite(ctx, p.Tokens)
			if err != nil || count != min(len(want), db.countCap+1) {
				t.Errorf("limit %d, %q: count %d, %v; want %d", limit, text, count, err, min(len(want), db.countCap+1))
			}
		}
		if writtenOut == 0 || nobody == 0 || limit == 2 && keptPrefix == 0 {
			t.Errorf("limit %d: %d queries written out, %d matching nobody, %d kept as prefixes: a case is missing",
				limit, writtenOut, nobody, keptPrefix)
		}
	}
}

// prefix is the first n characters of s, or s when shorter.
func prefix(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}

// mustStrings runs a query selecting one column, read as text.
func mustStrings(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
