package issuerdb

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Ranks of name results, best first. A name search lists its matches rank by rank, each rank
// in its own order, and the cursor of the next page carries the rank it stopped in.
const (
	// rankFullName: the query is the whole name, in any word order, with or without the
	// middle name ("john smith", "smith john").
	rankFullName = iota
	// rankCompletion: the query's words are the starts of the words of the first and last
	// name, one each ("smi jo" for John Smith). The closest completions come first (the
	// shortest first and last name), then by name, so "smi jo" puts John Smith before Joëlle
	// Smit.
	rankCompletion
	// rankWholeWords: every query word is a whole word of the first or last name ("zoe" for
	// Zoë Ashworth, not for Charlotte Zoë Ashworth). By name.
	rankWholeWords
	// rankOther: every query word starts some word of the name, middle names included. By name.
	rankOther
)

// Limits of the completion rank: a query of one- or two-letter words completes to hundreds
// of names, where the rank would say little and cost much, so past these it is skipped.
const (
	maxCompletionTokens = 4
	maxCompletionKeys   = 128
)

// nameSearch is one name search: its plan and what its queries look up once and share.
type nameSearch struct {
	plan
	// keys are the completion keys; nil until looked up.
	keys []string
	// prefixRuns are the PostgreSQL runs of the query's rarest word as a prefix, shared by
	// the other rank and the count; nil until looked up.
	prefixRuns *runs
}

// searchName returns the name matches after cur, rank by rank, up to limit+1 rows. The
// completion keys are looked up only once a page reaches past the full-name rank: a full
// name usually fills its page on its own.
func (db *DB) searchName(ctx context.Context, ns *nameSearch, cur cursor, limit int) ([]hit, error) {
	p := ns.plan
	want := limit + 1
	var hits []hit
	var err error
	for rank := cur.Phase; rank <= rankOther && len(hits) < want; rank++ {
		if rank != cur.Phase {
			cur = cursor{Kind: p.Kind, Phase: rank}
		}
		if rank > rankFullName && ns.keys == nil {
			if ns.keys, err = db.completionKeys(ctx, p); err != nil {
				return nil, err
			}
		}
		keys := ns.keys
		var more []hit
		switch rank {
		case rankFullName:
			more, err = db.keyRuns(ctx, []keyRun{{"name_key", p.Key}, {"short_key", p.Key}}, cur, want-len(hits),
				func(h *hit) { h.phase = rankFullName })
		case rankCompletion:
			more, err = db.completions(ctx, keys, cur, want-len(hits))
		default:
			if db.dialect == sqliteDialect {
				more, err = db.ftsMatches(ctx, p, rank, keys, cur, want-len(hits))
			} else {
				more, err = db.runMatches(ctx, ns, rank, cur, want-len(hits))
			}
		}
		if err != nil {
			return nil, err
		}
		hits = append(hits, more...)
	}
	return hits, nil
}

// givenWords lists up to limit distinct words of first and last names that start with
// prefix (both engines keep them in name_given_words).
func (db *DB) givenWords(ctx context.Context, prefix string, limit int) ([]string, error) {
	return db.wordsStarting(ctx, "name_given_words", prefix, limit)
}

// wordsStarting lists up to limit words of a table of words that start with prefix, in order.
func (db *DB) wordsStarting(ctx context.Context, table, prefix string, limit int) ([]string, error) {
	return db.queryStrings(ctx, "SELECT word FROM "+table+" WHERE word >= ? AND word < ? ORDER BY word LIMIT ?",
		prefix, prefixUpper(prefix), limit)
}

// queryStrings runs a query selecting one text column; its text is prepared and kept.
func (db *DB) queryStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := db.queryRows(ctx, keep, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// completionKeys lists the name keys (see nameKey) of every first and last name that the
// query's words are the starts of, one word each, without the query's own key (that is the
// full-name rank). It is empty (never nil) for a one-word query (nobody's first and last name is one word)
// and past the limits above.
func (db *DB) completionKeys(ctx context.Context, p plan) ([]string, error) {
	if len(p.Tokens) < 2 || len(p.Tokens) > maxCompletionTokens {
		return []string{}, nil
	}
	options := make([][]string, len(p.Tokens))
	combos := 1
	for i, t := range p.Tokens {
		words, err := db.givenWords(ctx, t, maxCompletionKeys+1)
		if err != nil {
			return nil, err
		}
		combos *= len(words)
		if combos == 0 || combos > maxCompletionKeys {
			return []string{}, nil
		}
		options[i] = words
	}
	return completionKeysOf(options, p.Key), nil
}

// completionKeysOf is the distinct keys of every choice of one word per option list, sorted,
// without exclude.
func completionKeysOf(options [][]string, exclude string) []string {
	seen := map[string]bool{}
	choice := make([]string, len(options))
	var walk func(i int)
	walk = func(i int) {
		if i == len(options) {
			if k := nameKey(choice); k != exclude {
				seen[k] = true
			}
			return
		}
		for _, w := range options[i] {
			choice[i] = w
			walk(i + 1)
		}
	}
	walk(0)
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// completions returns the customers of the completion rank after cur: whose first and last
// name key is one of keys, shortest name first, then by name. The keys are taken a length at
// a time, from the cursor's length on.
func (db *DB) completions(ctx context.Context, keys []string, cur cursor, n int) ([]hit, error) {
	byLen := map[int][]keyRun{}
	var lengths []int
	for _, k := range keys {
		l := utf8.RuneCountInString(k)
		if l < cur.Len {
			continue
		}
		if byLen[l] == nil {
			lengths = append(lengths, l)
		}
		byLen[l] = append(byLen[l], keyRun{"short_key", k})
	}
	slices.Sort(lengths)
	var out []hit
	for _, l := range lengths {
		from := cur
		if l != cur.Len {
			from = cursor{}
		}
		more, err := db.keyRuns(ctx, byLen[l], from, n-len(out), func(h *hit) { h.phase, h.keyLen = rankCompletion, l })
		if err != nil {
			return nil, err
		}
		if out = append(out, more...); len(out) >= n {
			break
		}
	}
	return out, nil
}

// keyRun is one value of an indexed name key column (name_key or short_key): the customers
// holding it, in display order, are one run of that column's index.
type keyRun struct {
	column, value string
}

// keyRuns returns up to n customers after cur from the union of runs, in display order, set
// by fill. Each run is read from its index alone, a page at most, and only the page's rows are
// then fetched: a common name costs a page, not every namesake.
func (db *DB) keyRuns(ctx context.Context, runs []keyRun, cur cursor, n int, fill func(*hit)) ([]hit, error) {
	if len(runs) == 0 || n <= 0 {
		return nil, nil
	}
	var q strings.Builder
	var args []any
	for i, r := range runs {
		if i > 0 {
			// UNION, not UNION ALL: a customer without a middle name is in both full-name runs.
			q.WriteString(" UNION ")
		}
		q.WriteString(`SELECT sort_name, id FROM (SELECT sort_name, id FROM customers WHERE ` + r.column + ` = ?
			AND (sort_name, id) > (?, ?) ORDER BY sort_name, id LIMIT ?) AS k` + strconv.Itoa(i))
		args = append(args, r.value, cur.Sort, cur.ID, n)
	}
	sql := "SELECT " + db.customerColumns("c.") + ", r.sort_name FROM (SELECT sort_name, id FROM (" + q.String() +
		") AS runs ORDER BY sort_name, id LIMIT ?) AS r JOIN customers c ON c.id = r.id ORDER BY r.sort_name, r.id"
	return db.scan(ctx, runsReuse(len(runs)), sql, append(args, n), func(h *hit, v []any) {
		h.sort = asString(v[0])
		fill(h)
	})
}

// maxKeptRuns is the most runs a kept keyRuns statement unites: the full-name rank's two and
// the few completions of one length most pages see. Longer unions are prepared per call.
const maxKeptRuns = 4

func runsReuse(n int) reuse {
	if n <= maxKeptRuns {
		return keep
	}
	return once
}

// wholeWordsLike are LIKE patterns on " " || short_key || " " that hold when every token
// is a whole word of the first or last name.
func wholeWordsLike(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = "% " + t + " %"
	}
	return out
}

// count fills in how many customers match a page's query, up to DB.countCap (CountCap). A
// first page that is also the last needs no count: its rows are all the matches.
func (db *DB) count(ctx context.Context, ns *nameSearch, page *Page, rows int) error {
	p := ns.plan
	if page.Next == "" && page.Offset == 0 {
		page.Total = rows
		return nil
	}
	var n int
	var err error
	switch p.Kind {
	case KindEmail:
		lo, hi := emailRange(p)
		n, err = db.countRows(ctx, "SELECT 1 FROM customers WHERE email_lower >= ? AND email_lower <= ?", lo, hi)
	case KindPhone:
		n, err = db.countRows(ctx, "SELECT 1 FROM customers WHERE phone = ?", p.Value)
	case KindLast4:
		n, err = db.countRows(ctx, "SELECT customer_id FROM cards WHERE last4 = ? GROUP BY customer_id", p.Value)
	case KindLast4Name:
		where, args := last4Where("c", p)
		n, err = db.countRows(ctx, "SELECT 1 FROM customers c WHERE "+where, args...)
	case KindName:
		if db.dialect == sqliteDialect {
			n, err = db.countNamesSQLite(ctx, p.Tokens)
		} else {
			n, page.TotalAtLeast, err = db.countNamesPostgres(ctx, ns)
		}
	default:
		// Ids match one customer at most: its page is its count.
		page.Total = rows
		return nil
	}
	if err != nil {
		return err
	}
	page.Total, page.TotalOver = min(n, db.countCap), n > db.countCap
	return nil
}

// countRows counts the rows of a query, stopping after DB.countCap+1; its text is prepared
// and kept.
func (db *DB) countRows(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	err := db.queryRow(ctx, keep, "SELECT count(*) FROM ("+query+" LIMIT ?) AS m", append(args, db.countCap+1)...).Scan(&n)
	return n, err
}

// ftsQuote makes a token one FTS5 string; tokens hold letters and digits only, the doubling
// of quotes is a second line of defence.
func ftsQuote(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }

// ftsPrefixQuery matches names whose words start with every token.
func ftsPrefixQuery(tokens []string) string { return ftsNameQuery(ftsPrefixTerms(tokens)) }

// ftsPrefixTerms are the FTS5 prefix terms of tokens: "smi"*.
func ftsPrefixTerms(tokens []string) []string {
	terms := make([]string, len(tokens))
	for i, t := range tokens {
		terms[i] = ftsQuote(t) + "*"
	}
	return terms
}

// ftsNameQuery matches names holding every term.
func ftsNameQuery(terms []string) string { return "name : (" + strings.Join(terms, " AND ") + ")" }

// ftsWholeWordsQuery matches first and last names holding every token as a whole word.
func ftsWholeWordsQuery(tokens []string) string {
	terms := make([]string, len(tokens))
	for i, t := range tokens {
		terms[i] = ftsQuote(t)
	}
	return "fl : (" + strings.Join(terms, " AND ") + ")"
}
