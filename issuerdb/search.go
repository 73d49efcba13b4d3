package issuerdb

import (
	"context"
	"fmt"
	"strings"
)

// Page is one page of search results: the kind the query was understood as, the customers
// (with their cards) in result order, and the cursor of the next page ("" on the last page).
type Page struct {
	Kind      Kind
	Customers []Customer
	Next      string
}

// Search finds customers. The query's kind is detected from its text (see parseQuery);
// text that cannot be searched returns an error wrapping ErrInvalidQuery whose QueryError
// message can be shown to the agent as it is. Results are ordered per kind (names: exact
// full-name matches first, then by last name, first name, id) and paginated by keyset.
func (db *DB) Search(ctx context.Context, q Query) (Page, error) {
	p, err := parseQuery(q.Text, db.region)
	if err != nil {
		return Page{}, err
	}
	cur, err := decodeCursor(q.After, p.Kind)
	if err != nil {
		return Page{Kind: p.Kind}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var hits []hit
	switch p.Kind {
	case KindCustomerID:
		hits, err = db.query(ctx, "WHERE c.id = ?", []any{p.Value}, nil)
	case KindConsumerID:
		hits, err = db.query(ctx, "WHERE c.consumer_id = ?", []any{p.Value}, nil)
	case KindEmail:
		hits, err = db.searchEmail(ctx, p, cur, limit)
	case KindPhone:
		hits, err = db.query(ctx, "WHERE c.phone = ? AND c.id > ? ORDER BY c.id LIMIT ?",
			[]any{p.Value, cur.ID, limit + 1}, nil)
	case KindLast4, KindLast4Name:
		hits, err = db.searchLast4(ctx, p, cur, limit)
	default:
		hits, err = db.searchName(ctx, p, cur, limit)
	}
	if err != nil {
		return Page{Kind: p.Kind}, fmt.Errorf("issuerdb: search by %s: %w", p.Kind, err)
	}
	page := Page{Kind: p.Kind}
	if len(hits) > limit {
		hits = hits[:limit]
		last := hits[limit-1]
		page.Next = cursor{Kind: p.Kind, Phase: last.phase, Sort: last.sort, ID: last.ID, Ord: last.ord}.encode()
	}
	ids := make([]string, len(hits))
	for i := range hits {
		ids[i] = hits[i].ID
	}
	cards, err := db.cardsOf(ctx, ids)
	if err != nil {
		return Page{Kind: p.Kind}, fmt.Errorf("issuerdb: search by %s: %w", p.Kind, err)
	}
	page.Customers = make([]Customer, len(hits))
	for i := range hits {
		page.Customers[i] = hits[i].Customer
		page.Customers[i].Cards = cards[hits[i].ID]
	}
	return page, nil
}

// hit is a result row with where it sits in the result order.
type hit struct {
	Customer
	phase int
	sort  string
	ord   int64
}

// query selects customers (alias c) with the given tail of the statement. extra, when set,
// names one more selected expression and says how it fills the hit's position.
func (db *DB) query(ctx context.Context, tail string, args []any, extra *extraColumn) ([]hit, error) {
	q := "SELECT " + db.customerColumns("c.")
	from := " FROM customers c "
	var fill func(*hit, any)
	if extra != nil {
		q += ", " + extra.expr
		from = " " + extra.from + " "
		fill = extra.fill
	}
	return db.scan(ctx, q+from+tail, args, fill)
}

// scan runs a query selecting the customer columns, then optionally one more column that
// fill turns into the hit's position.
func (db *DB) scan(ctx context.Context, query string, args []any, fill func(*hit, any)) ([]hit, error) {
	rows, err := db.db.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hit
	for rows.Next() {
		var h hit
		var pos any
		var dest []any
		if fill != nil {
			dest = append(dest, &pos)
		}
		if h.Customer, err = scanCustomer(rows, dest...); err != nil {
			return nil, err
		}
		if fill != nil {
			fill(&h, pos)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

type extraColumn struct {
	expr, from string
	fill       func(h *hit, v any)
}

func sortFrom(phase int) *extraColumn {
	return &extraColumn{expr: "c.sort_name", from: "FROM customers c", fill: func(h *hit, v any) {
		h.phase, h.sort = phase, asString(v)
	}}
}

func asString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return ""
}

func (db *DB) searchEmail(ctx context.Context, p plan, cur cursor, limit int) ([]hit, error) {
	lo, hi := p.Value, p.Value
	if p.EmailPrefix {
		// The highest code point closes the range of every string starting with the prefix;
		// both engines compare these columns byte by byte.
		hi = p.Value + "\U0010FFFF"
	}
	extra := &extraColumn{expr: "c.email_lower", from: "FROM customers c", fill: func(h *hit, v any) {
		h.sort = asString(v)
	}}
	where, args := "WHERE c.email_lower >= ? AND c.email_lower <= ?", []any{lo, hi}
	if cur.ID != "" {
		// Only on later pages: PostgreSQL starts an index scan at a row-value bound rather
		// than at the tighter range above, so an empty one would scan from the first row.
		where += " AND (c.email_lower, c.id) > (?, ?)"
		args = append(args, cur.Sort, cur.ID)
	}
	return db.query(ctx, where+" ORDER BY c.email_lower, c.id LIMIT ?", append(args, limit+1), extra)
}

func (db *DB) searchLast4(ctx context.Context, p plan, cur cursor, limit int) ([]hit, error) {
	where := "WHERE c.id IN (SELECT customer_id FROM cards WHERE last4 = ?) AND c.id > ?"
	args := []any{p.Value, cur.ID}
	for _, t := range p.Tokens {
		// Tokens are folded letters and digits only, so they hold no LIKE wildcards.
		where += " AND (' ' || c.search_name) LIKE ?"
		args = append(args, "% "+t+"%")
	}
	return db.query(ctx, where+" ORDER BY c.id LIMIT ?", append(args, limit+1), nil)
}

// searchName returns exact full-name matches first (any word order, with or without the
// middle name), then every customer whose name words start with each query token.
func (db *DB) searchName(ctx context.Context, p plan, cur cursor, limit int) ([]hit, error) {
	var hits []hit
	if cur.Phase == 0 {
		exact, err := db.query(ctx, `WHERE (c.name_key = ? OR c.short_key = ?)
			AND (c.sort_name, c.id) > (?, ?)
			ORDER BY c.sort_name, c.id LIMIT ?`,
			[]any{p.Key, p.Key, cur.Sort, cur.ID, limit + 1}, sortFrom(0))
		if err != nil {
			return nil, err
		}
		if len(exact) > limit {
			return exact, nil
		}
		hits, cur = exact, cursor{Kind: p.Kind, Phase: 1}
	}
	more, err := db.prefixMatches(ctx, p, cur, limit+1-len(hits))
	if err != nil {
		return nil, err
	}
	return append(hits, more...), nil
}

func (db *DB) prefixMatches(ctx context.Context, p plan, cur cursor, n int) ([]hit, error) {
	if db.dialect == sqliteDialect {
		terms := make([]string, len(p.Tokens))
		for i, t := range p.Tokens {
			terms[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
		}
		extra := &extraColumn{
			expr: "f.rowid",
			from: "FROM customer_fts f JOIN name_order o ON o.ord = f.rowid JOIN customers c ON c.rowid = o.customer_rowid",
			fill: func(h *hit, v any) { h.phase, h.ord = 1, v.(int64) },
		}
		return db.query(ctx, `WHERE customer_fts MATCH ? AND f.rowid > ?
			AND c.name_key <> ? AND c.short_key <> ? ORDER BY f.rowid LIMIT ?`,
			[]any{strings.Join(terms, " AND "), cur.Ord, p.Key, p.Key, n}, extra)
	}
	return db.prefixMatchesPostgres(ctx, p, cur, n)
}
