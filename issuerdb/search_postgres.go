package issuerdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// prefixUpper closes the range of strings that start with prefix: both engines compare the
// search columns byte by byte, and no stored text holds a code point above U+10FFFF.
func prefixUpper(prefix string) string { return prefix + "\U0010FFFF" }

// defaultReadBudget bounds how many rows of name runs one name-prefix page may read before
// the search switches to the GIN index (DB.readBudget).
const defaultReadBudget = 3000

// prefixMatchesPostgres finds the name-prefix matches on PostgreSQL, in display order, a page
// at a time. A GIN index cannot hand rows back in order, so a common prefix ("smi") would
// mean fetching and sorting tens of thousands of rows. Instead the search starts from the
// query's rarest word (by the counts in name_vocab), lists the distinct name words it is a
// prefix of (name_tokens holds them), and merges the already ordered runs of those words'
// customers, keeping those whose names also match the other words; PostgreSQL stops the
// merge after one page. When the other words are rare within those runs (a surname and a
// first name from different countries), the merge would read a long way for few rows, so it
// reads at most DB.readBudget rows; if they hold less than a page, the GIN index on the whole
// query finds the rest, intersecting the words' posting lists instead.
func (db *DB) prefixMatchesPostgres(ctx context.Context, p plan, cur cursor, n int) ([]hit, error) {
	driver, err := db.rarestToken(ctx, p.Tokens)
	if err != nil {
		return nil, err
	}
	words, err := db.wordsWithPrefix(ctx, p.Tokens[driver])
	if err != nil || len(words) == 0 {
		return nil, err
	}
	var bound *cursor
	if len(p.Tokens) > 1 {
		if bound, err = db.budgetBound(ctx, words, cur, db.readBudget); err != nil {
			return nil, err
		}
	}
	var out []hit
	for {
		want := n - len(out)
		batch, err := db.mergeRuns(ctx, p, driver, words, cur, bound, want)
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
		if len(out) >= n {
			return out, nil
		}
		if len(batch) < want {
			if bound == nil {
				return out, nil
			}
			// The budget held less than a page: sparse matches, the GIN index's case. It
			// starts over from the original cursor and returns whole pages itself.
			return db.ginMatches(ctx, p, startOf(out, cur), n-len(out), out)
		}
		last := batch[len(batch)-1]
		cur.Sort, cur.ID = last.sort, last.ID
	}
}

// startOf is the cursor after the last hit, or cur when there is none.
func startOf(hits []hit, cur cursor) cursor {
	if len(hits) > 0 {
		cur.Sort, cur.ID = hits[len(hits)-1].sort, hits[len(hits)-1].ID
	}
	return cur
}

// budgetBound returns the key of the budget-th row of the runs after cur, or nil when the
// runs hold fewer rows than that (then reading them all is within budget).
func (db *DB) budgetBound(ctx context.Context, words []string, cur cursor, budget int) (*cursor, error) {
	var q strings.Builder
	var args []any
	q.WriteString("SELECT sort_name, id FROM (")
	for i, w := range words {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(`(SELECT sort_name, id FROM name_tokens WHERE token = ? AND (sort_name, id) > (?, ?)
			ORDER BY sort_name, id LIMIT ?)`)
		args = append(args, w, cur.Sort, cur.ID, budget)
	}
	q.WriteString(") AS runs ORDER BY sort_name, id OFFSET ? LIMIT 1")
	args = append(args, budget-1)
	var b cursor
	err := db.db.QueryRowContext(ctx, db.rebind(q.String()), args...).Scan(&b.Sort, &b.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("name runs budget: %w", err)
	}
	return &b, nil
}

// ginMatches finds up to n prefix matches after cur with the GIN index on the folded names,
// appending them to prior: all matches are fetched and sorted, which is cheap because this
// path only runs when they are sparse.
func (db *DB) ginMatches(ctx context.Context, p plan, cur cursor, n int, prior []hit) ([]hit, error) {
	terms := make([]string, len(p.Tokens))
	for i, t := range p.Tokens {
		terms[i] = t + ":*"
	}
	q := `WITH m AS MATERIALIZED (
			SELECT ` + db.customerColumns("c.") + `, c.sort_name AS sort_key
			FROM customers c
			WHERE to_tsvector('simple'::regconfig, c.search_name) @@ to_tsquery('simple'::regconfig, ?)
			AND c.name_key <> ? AND c.short_key <> ? AND (c.sort_name, c.id) > (?, ?))
		SELECT * FROM m ORDER BY sort_key, id LIMIT ?`
	hits, err := db.scan(ctx, q, []any{strings.Join(terms, " & "), p.Key, p.Key, cur.Sort, cur.ID, n},
		func(h *hit, v any) { h.phase, h.sort = 1, asString(v) })
	if err != nil {
		return nil, fmt.Errorf("name index: %w", err)
	}
	return append(prior, hits...), nil
}

// rarestToken returns the index of the token matching the fewest customers.
func (db *DB) rarestToken(ctx context.Context, tokens []string) (int, error) {
	best, bestCount := 0, int64(-1)
	for i, t := range tokens {
		var c int64
		err := db.db.QueryRowContext(ctx, db.rebind(
			"SELECT coalesce(sum(customers), 0) FROM name_vocab WHERE token >= ? AND token < ?"),
			t, prefixUpper(t)).Scan(&c)
		if err != nil {
			return 0, err
		}
		if bestCount < 0 || c < bestCount {
			best, bestCount = i, c
		}
	}
	return best, nil
}

// wordsWithPrefix lists the distinct name words starting with prefix, one index probe each
// (a skip scan over name_tokens), so the list is always current.
func (db *DB) wordsWithPrefix(ctx context.Context, prefix string) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `WITH RECURSIVE w (token) AS (
			(SELECT token FROM name_tokens WHERE token >= $1 AND token < $2 ORDER BY token LIMIT 1)
			UNION ALL
			SELECT (SELECT t.token FROM name_tokens t WHERE t.token > w.token AND t.token < $2 ORDER BY t.token LIMIT 1)
			FROM w WHERE w.token IS NOT NULL)
		SELECT token FROM w WHERE token IS NOT NULL`, prefix, prefixUpper(prefix))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// mergeRuns reads up to n rows after cur from the runs of the given words, in display order.
// With bound set, only rows up to and including bound are read.
func (db *DB) mergeRuns(ctx context.Context, p plan, driver int, words []string, cur cursor, bound *cursor, n int) ([]hit, error) {
	var filter strings.Builder
	var filterArgs []any
	if bound != nil {
		filter.WriteString(" AND (t.sort_name, t.id) <= (?, ?)")
		filterArgs = append(filterArgs, bound.Sort, bound.ID)
	}
	for i, t := range p.Tokens {
		if i == driver {
			continue
		}
		// Every other token must start some word of the name; tokens are letters and digits.
		filter.WriteString(" AND (' ' || t.search_name) LIKE ?")
		filterArgs = append(filterArgs, "% "+t+"%")
	}
	// Each run is read from name_tokens' covering index alone; only the page's rows are then
	// fetched from customers.
	branch := `(SELECT t.sort_name, t.id FROM name_tokens t
		WHERE t.token = ? AND (t.sort_name, t.id) > (?, ?)` + filter.String() + `
		AND t.name_key <> ? AND t.short_key <> ?
		ORDER BY t.sort_name, t.id LIMIT ?)`
	var q strings.Builder
	var args []any
	q.WriteString("SELECT " + db.customerColumns("c.") + ", r.sort_name FROM (SELECT sort_name, id FROM (")
	for i, w := range words {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(branch)
		args = append(args, w, cur.Sort, cur.ID)
		args = append(args, filterArgs...)
		args = append(args, p.Key, p.Key, n)
	}
	q.WriteString(") AS runs ORDER BY sort_name, id LIMIT ?) AS r JOIN customers c ON c.id = r.id ORDER BY r.sort_name, r.id")
	args = append(args, n)
	hits, err := db.scan(ctx, q.String(), args, func(h *hit, v any) { h.phase, h.sort = 1, asString(v) })
	if err != nil {
		return nil, fmt.Errorf("merge name runs: %w", err)
	}
	return hits, nil
}
