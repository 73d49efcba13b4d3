package issuerdb

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// prefixUpper closes the range of strings that start with prefix: both engines compare the
// search columns byte by byte, and no stored text holds a code point above U+10FFFF.
func prefixUpper(prefix string) string { return prefix + "\U0010FFFF" }

// defaultCountBudget bounds how many rows of name runs a count reads (DB.countBudget): enough
// for CountCap+1 customers with several words each. Past it the count is a lower bound (see
// countNamesPostgres).
const defaultCountBudget = 5 * (CountCap + 1)

// defaultMaxRunWords is the most words a name search merges one run each of (DB.maxRunWords);
// a prefix starting more is read as one run of the words sharing its initial (see runs). Each
// run is a branch of the statement, planned with it; the initial's run costs one index entry
// per name word of that initial it passes, so it is the cheaper one past a few words unless
// the prefix's words are rare among its initial's.
const defaultMaxRunWords = 16

// Past DB.maxRunWords words, a prefix longer than its initial whose rows are fewer than
// DB.sparseRunRows (defaultSparseRunRows) in at most maxSparseRunWords words is still merged
// word by word (sparsePrefixWords): a statement of up to 64 branches, against a run that
// would pass most of its initial's rows to find them.
const (
	defaultSparseRunRows = 1000
	maxSparseRunWords    = 64
)

// initialOf is the initial whose run holds the words starting with prefix: its first two
// letters (name_tokens_initials), or its one letter (name_tokens_initial). A prefix of one or
// two letters is then its initial's run exactly; a longer one passes the rows of its first
// two letters' other words. PostgreSQL's left() counts characters, as runes do.
func initialOf(prefix string) string {
	_, first := utf8.DecodeRuneInString(prefix)
	_, second := utf8.DecodeRuneInString(prefix[first:])
	return prefix[:first+second]
}

// runMatches finds the customers of the whole-words or the other rank on PostgreSQL, in
// display order, a page at a time. A GIN index cannot hand rows back in order, so a common
// prefix ("smi") would mean fetching and sorting tens of thousands of rows. Instead the
// search starts from the query's rarest word (by the counts in name_vocab), lists the
// distinct name words it is (whole-words rank) or starts (other rank) — name_tokens holds
// them — and merges the already ordered runs of those words' customers, keeping those whose
// names also match the rank's condition; PostgreSQL stops the merge after one page. The runs
// are read from name_tokens' covering index alone, so even when the other words are rare
// within them (a surname and a first name from different countries, or matches that all sort
// late: "van jo" finds its Dutch customers only after the Vietnamese middle names "Van"), the
// merge reads at most the rarest word's runs, a few index entries per microsecond. That is
// cheaper than the GIN index on the whole query, which has to union the posting lists of
// every word each query word starts, then fetch and sort every match. A short prefix of a
// real portfolio starts thousands of surnames, too many runs for one statement; past
// DB.maxRunWords words the runs are the one run of the prefix's initial, its first one or two
// letters (runs.union), which holds the same rows in the same order among others that the
// prefix filters out.
func (db *DB) runMatches(ctx context.Context, ns *nameSearch, rank int, cur cursor, n int) ([]hit, error) {
	p, keys := ns.plan, ns.keys
	var r *runs
	var err error
	if rank == rankWholeWords {
		r, err = db.wholeWordRuns(ctx, p)
	} else {
		r, err = db.prefixRunsOf(ctx, ns)
	}
	if err != nil || r.empty() {
		return nil, err
	}
	filter, filterArgs := runFilter("t", p, rank, keys, r.driver)
	var out []hit
	for {
		want := n - len(out)
		batch, err := db.mergeRuns(ctx, rank, r, filter, filterArgs, cur, want)
		if err != nil {
			return nil, err
		}
		// A customer with two words starting with the prefix ("jo": John Jones) comes once
		// per word; the copies are adjacent in display order.
		for _, h := range batch {
			if len(out) == 0 || out[len(out)-1].ID != h.ID {
				out = append(out, h)
			}
		}
		if len(out) >= n || len(batch) < want {
			return out, nil
		}
		last := batch[len(batch)-1]
		cur.Sort, cur.ID = last.sort, last.ID
	}
}

// runs are the name_tokens runs a search merges: those of the words the query's rarest
// word (driver) is or starts. A prefix that starts more than DB.maxRunWords words is read as
// one run instead: the rows of its initial (initialOf) from name_tokens_initial (one letter)
// or name_tokens_initials (two), in display order, kept when their word starts with the
// prefix. A surname cluster of a real portfolio ("mc", "mu") is a small share of its first
// letter's rows, and the run of its two letters passes none of the others.
type runs struct {
	driver int
	// words are the words of the runs; nil when prefix is set.
	words []string
	// prefix, when set, stands for every word starting with it.
	prefix string
}

// empty says the runs hold no row: the driver word starts no name word.
func (r *runs) empty() bool { return len(r.words) == 0 && r.prefix == "" }

// union is a UNION ALL of one ordered, limited branch per run; branch writes a branch's SQL
// over name_tokens aliased t for the condition selecting the run's rows (on t) and its
// arguments.
func (r *runs) union(branch func(cond string, args []any) (string, []any)) (string, []any) {
	if r.prefix != "" {
		// The initial's length is written out: each index is on its own expression.
		initial := initialOf(r.prefix)
		cond := fmt.Sprintf("left(t.token, %d) = ? AND t.token >= ? AND t.token < ?", utf8.RuneCountInString(initial))
		return branch(cond, []any{initial, r.prefix, prefixUpper(r.prefix)})
	}
	var q strings.Builder
	var args []any
	for i, w := range r.words {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		sql, a := branch("t.token = ?", []any{w})
		q.WriteString(sql)
		args = append(args, a...)
	}
	return q.String(), args
}

// reuse is how the text of a statement over the runs is kept: the one run of a prefix has
// one text; one branch per word makes texts without bound.
func (r *runs) reuse() reuse {
	if r.prefix != "" {
		return keep
	}
	return once
}

// wholeWordRuns is the run of the query's rarest word itself.
func (db *DB) wholeWordRuns(ctx context.Context, p plan) (*runs, error) {
	driver, err := db.rarestToken(ctx, p.Tokens, true)
	if err != nil {
		return nil, err
	}
	return &runs{driver: driver, words: []string{p.Tokens[driver]}}, nil
}

// prefixRunsOf is the runs of every word the query's rarest word starts, looked up once per
// search.
func (db *DB) prefixRunsOf(ctx context.Context, ns *nameSearch) (*runs, error) {
	if ns.prefixRuns != nil {
		return ns.prefixRuns, nil
	}
	driver, err := db.rarestToken(ctx, ns.Tokens, false)
	if err != nil {
		return nil, err
	}
	prefix := ns.Tokens[driver]
	words, err := db.wordsWithPrefix(ctx, prefix, db.maxRunWords+1)
	if err != nil {
		return nil, err
	}
	r := &runs{driver: driver, words: words}
	if len(words) > db.maxRunWords {
		// A prefix that is its own initial has exactly its own rows in the initial's run.
		r.words = nil
		if initialOf(prefix) != prefix {
			if r.words, err = db.sparsePrefixWords(ctx, prefix); err != nil {
				return nil, err
			}
		}
		if r.words == nil {
			r.prefix = prefix
		}
	}
	ns.prefixRuns = r
	return r, nil
}

// sparsePrefixWords lists the words of a prefix that starts more than DB.maxRunWords words
// (so at least one) when their rows are few: fewer than DB.sparseRunRows, in at most
// maxSparseRunWords words. The initial's run would pass most of that initial's rows to find
// them, where merging their runs reads no more than their rows. It returns nil for a prefix
// to read as one run.
func (db *DB) sparsePrefixWords(ctx context.Context, prefix string) ([]string, error) {
	rows, err := db.prefixRows(ctx, prefix, db.sparseRunRows)
	if err != nil || rows >= db.sparseRunRows {
		return nil, err
	}
	words, err := db.wordsWithPrefix(ctx, prefix, maxSparseRunWords+1)
	if err != nil || len(words) > maxSparseRunWords {
		return nil, err
	}
	return words, nil
}

// prefixRows counts the rows of name_tokens whose word starts with prefix, up to limit: one
// range of the index, every word at once.
func (db *DB) prefixRows(ctx context.Context, prefix string, limit int) (int, error) {
	var rows int
	err := db.queryRow(ctx, keep, `SELECT count(*) FROM (
			SELECT 1 FROM name_tokens WHERE token >= ? AND token < ? LIMIT ?) AS t`,
		prefix, prefixUpper(prefix), limit).Scan(&rows)
	return rows, err
}

// runFilter is what a name run's row must meet besides its word, on the name columns of
// alias a (name_tokens and customers both carry them): the other query words (the driver
// word is the run's own), the rank's condition, and not being in a rank before.
func runFilter(a string, p plan, rank int, keys []string, driver int) (string, []any) {
	var b strings.Builder
	var args []any
	add := func(cond string, vals ...any) {
		b.WriteString(" AND " + cond)
		args = append(args, vals...)
	}
	whole := wholeWordsLike(p.Tokens)
	wholeConds := make([]string, len(whole))
	for i := range whole {
		// The run's word may be a middle name, so the driver is checked here as well.
		wholeConds[i] = "(' ' || " + a + ".short_key || ' ') LIKE ?"
	}
	if rank == rankWholeWords {
		add(strings.Join(wholeConds, " AND "), anys(whole)...)
	} else {
		for i, t := range p.Tokens {
			if i != driver {
				// Every other token must start some word of the name; tokens are letters and digits.
				add("(' ' || "+a+".search_name) LIKE ?", "% "+t+"%")
			}
		}
		add("NOT ("+strings.Join(wholeConds, " AND ")+")", anys(whole)...)
	}
	add(a+".name_key <> ? AND "+a+".short_key <> ?", p.Key, p.Key)
	if len(keys) > 0 {
		// One array parameter, so the text does not vary with the number of keys.
		add(a+".short_key <> ALL(?)", keys)
	}
	return b.String(), args
}

// rarestToken returns the index of the token matching the fewest customers, as a whole word
// or as a prefix.
func (db *DB) rarestToken(ctx context.Context, tokens []string, exact bool) (int, error) {
	if len(tokens) == 1 {
		return 0, nil
	}
	best, bestCount := 0, int64(-1)
	for i, t := range tokens {
		hi := prefixUpper(t)
		if exact {
			hi = t
		}
		var c int64
		err := db.queryRow(ctx, keep, "SELECT coalesce(sum(customers), 0) FROM name_vocab WHERE token >= ? AND token <= ?", t, hi).Scan(&c)
		if err != nil {
			return 0, err
		}
		if bestCount < 0 || c < bestCount {
			best, bestCount = i, c
		}
	}
	return best, nil
}

// wordsWithPrefix lists up to limit distinct name words starting with prefix, in order, one
// index probe each (a skip scan over name_tokens, which stops at the limit), so the list is
// always current.
func (db *DB) wordsWithPrefix(ctx context.Context, prefix string, limit int) ([]string, error) {
	return db.queryStrings(ctx, `WITH RECURSIVE w (token) AS (
			(SELECT token FROM name_tokens WHERE token >= $1 AND token < $2 ORDER BY token LIMIT 1)
			UNION ALL
			SELECT (SELECT t.token FROM name_tokens t WHERE t.token > w.token AND t.token < $2 ORDER BY t.token LIMIT 1)
			FROM w WHERE w.token IS NOT NULL)
		SELECT token FROM w WHERE token IS NOT NULL LIMIT $3`, prefix, prefixUpper(prefix), limit)
}

// mergeRuns reads up to n rows after cur from the runs r that meet filter, in display order.
func (db *DB) mergeRuns(ctx context.Context, rank int, r *runs, filter string, filterArgs []any, cur cursor, n int) ([]hit, error) {
	q, args := db.mergeStatement(r, filter, filterArgs, cur, n)
	hits, err := db.scan(ctx, r.reuse(), q, args, func(h *hit, v []any) { h.phase, h.sort = rank, asString(v[0]) })
	if err != nil {
		return nil, fmt.Errorf("merge name runs: %w", err)
	}
	return hits, nil
}

// mergeStatement is mergeRuns' statement and its arguments. Each run is read from a covering
// index of name_tokens alone; only the page's rows are then fetched from customers.
func (db *DB) mergeStatement(r *runs, filter string, filterArgs []any, cur cursor, n int) (string, []any) {
	runs, args := r.union(func(cond string, condArgs []any) (string, []any) {
		a := append(append(condArgs, cur.Sort, cur.ID), filterArgs...)
		return `(SELECT t.sort_name, t.id FROM name_tokens t
			WHERE ` + cond + ` AND (t.sort_name, t.id) > (?, ?)` + filter + `
			ORDER BY t.sort_name, t.id LIMIT ?)`, append(a, n)
	})
	q := "SELECT " + db.customerColumns("c.") + ", r.sort_name FROM (SELECT sort_name, id FROM (" + runs +
		") AS runs ORDER BY sort_name, id LIMIT ?) AS r JOIN customers c ON c.id = r.id ORDER BY r.sort_name, r.id"
	return q, append(args, n)
}

// countNamesPostgres counts the customers whose name words start with every query word, up
// to DB.countCap+1, from the first DB.countBudget rows of the rarest word's runs, read in
// order from the index alone; the count stops at the cap's next match. So a broad query reads
// about as many rows as it counts, and no count reads more than the budget. When the runs go
// on past the budget with no more than the cap matching in it, the matches are sparse and the
// count is a lower bound (atLeast): counting them exactly would mean reading every run or
// intersecting large posting lists, tens of milliseconds on a big portfolio.
func (db *DB) countNamesPostgres(ctx context.Context, ns *nameSearch) (n int, atLeast bool, err error) {
	p := ns.plan
	r, err := db.prefixRunsOf(ctx, ns)
	if err != nil || r.empty() {
		return 0, false, err
	}
	match := "TRUE"
	var matchArgs []any
	for i, t := range p.Tokens {
		if i != r.driver {
			match += " AND (' ' || search_name) LIKE ?"
			matchArgs = append(matchArgs, "% "+t+"%")
		}
	}
	runs, args := r.union(func(cond string, condArgs []any) (string, []any) {
		return `(SELECT t.sort_name, t.id, t.search_name FROM name_tokens t WHERE ` + cond + `
			ORDER BY t.sort_name, t.id LIMIT ?)`, append(condArgs, db.countBudget)
	})
	// A customer with two words of the prefix comes twice, adjacent: DISTINCT ON drops the
	// copy without stopping the stream.
	err = db.queryRow(ctx, r.reuse(), `SELECT count(*) FROM (
			SELECT DISTINCT ON (sort_name, id) sort_name, id FROM (
				SELECT sort_name, id, search_name FROM (`+runs+`) AS runs ORDER BY sort_name, id LIMIT ?) AS r
			WHERE `+match+` ORDER BY sort_name, id LIMIT ?) AS m`,
		append(append(args, db.countBudget), append(matchArgs, db.countCap+1)...)...).Scan(&n)
	if err != nil {
		return 0, false, fmt.Errorf("count name runs: %w", err)
	}
	if n > db.countCap {
		return n, false, nil
	}
	// Whether the runs ended within the budget.
	rows, err := db.prefixRows(ctx, p.Tokens[r.driver], db.countBudget+1)
	if err != nil {
		return 0, false, fmt.Errorf("count name runs: %w", err)
	}
	return n, rows > db.countBudget, nil
}
