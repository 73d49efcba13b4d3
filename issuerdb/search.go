package issuerdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Page is one page of search results: the kind the query was understood as, the customers
// in result order, and the cursor of the next page ("" on the last page). Each customer's
// cards carry what a result shows of them (ID, CustomerID, Scheme, Last4, Status); Get loads
// the whole card.
type Page struct {
	Kind      Kind
	Customers []Customer
	Next      string
	// Total is how many customers match the query, counted up to CountCap; TotalOver says that
	// more than CountCap match (Total is then CountCap), so a broad query never counts a table.
	// TotalAtLeast says Total is a lower bound: on PostgreSQL, counting sparse name matches
	// stops after a bounded read (see countNamesPostgres).
	Total        int
	TotalOver    bool
	TotalAtLeast bool
	// Offset is how many rows the pages before this one showed.
	Offset int
	// Tokens are the folded name words of the query (name and card-last-4-and-name searches)
	// and Last4 the card's last four digits (card searches): what Highlight marks in a row.
	Tokens []string
	Last4  string
}

// errNoTurn is why a search ended before it ran: its context ended while it waited for a turn.
var errNoTurn = errors.New("no turn to search came")

// takeTurn returns once the caller holds one of the search turns, which it must then give
// back; or with an error wrapping errNoTurn and ctx's when ctx ends first.
func (db *DB) takeTurn(ctx context.Context) error {
	select {
	case db.turns <- struct{}{}:
		return nil
	default:
	}
	db.waiting.Add(1)
	defer db.waiting.Add(-1)
	select {
	case db.turns <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", errNoTurn, ctx.Err())
	}
}

// CountCap is where Search stops counting matches.
const CountCap = 1000

// Search finds customers. The query's kind is detected from its text (see parseQuery);
// text that cannot be searched returns an error wrapping ErrInvalidQuery whose QueryError
// message can be shown to the agent as it is. Results are ordered per kind (names: by rank,
// see searchName; emails by address; the rest by customer id) and paginated by keyset.
//
// At most Options.Searches searches run at once. One beyond them waits for a turn, so the
// searches of a burst end about in the order they came instead of all sharing the CPUs and the
// database and all ending about as late as the last; when ctx ends first, Search returns an
// error wrapping ctx's.
func (db *DB) Search(ctx context.Context, q Query) (Page, error) {
	p, err := parseQuery(q.Text, db.region)
	if err != nil {
		return Page{}, err
	}
	cur, err := decodeCursor(q.After, p.Kind)
	if err != nil {
		return Page{Kind: p.Kind}, err
	}
	if err := db.takeTurn(ctx); err != nil {
		return Page{Kind: p.Kind}, fmt.Errorf("issuerdb: search by %s: %w", p.Kind, err)
	}
	defer func() { <-db.turns }()
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var hits []hit
	ns := &nameSearch{plan: p}
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
		hits, err = db.searchName(ctx, ns, cur, limit)
	}
	if err != nil {
		return Page{Kind: p.Kind}, fmt.Errorf("issuerdb: search by %s: %w", p.Kind, err)
	}
	page := Page{Kind: p.Kind, Offset: cur.Shown, Tokens: p.Tokens}
	if p.Kind == KindLast4 || p.Kind == KindLast4Name {
		page.Last4 = p.Value
	}
	if len(hits) > limit {
		hits = hits[:limit]
		last := hits[limit-1]
		page.Next = cursor{Kind: p.Kind, Phase: last.phase, Len: last.keyLen, Sort: last.sort, ID: last.ID,
			Ord: last.ord, Shown: cur.Shown + limit}.encode()
	}
	if q.Found != nil {
		q.Found(p.Kind, len(hits))
	}
	if err := db.count(ctx, ns, &page, len(hits)); err != nil {
		return Page{Kind: p.Kind}, fmt.Errorf("issuerdb: count by %s: %w", p.Kind, err)
	}
	ids := make([]string, len(hits))
	for i := range hits {
		ids[i] = hits[i].ID
	}
	cards, err := db.cardSummariesOf(ctx, ids)
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
	phase  int
	keyLen int
	sort   string
	ord    int64
}

// query selects customers (alias c) with the given tail of the statement, which must be one
// of a small fixed set of texts (it is prepared and kept). extra, when set, names more
// selected expressions and says how they fill the hit's position.
func (db *DB) query(ctx context.Context, tail string, args []any, extra *extraColumns) ([]hit, error) {
	q := "SELECT " + db.customerColumns("c.")
	from := " FROM customers c "
	var fill func(*hit, []any)
	if extra != nil {
		q += ", " + strings.Join(extra.exprs, ", ")
		from = " " + extra.from + " "
		fill = extra.fill
	}
	return db.scan(ctx, keep, q+from+tail, args, fill)
}

// scan runs a query selecting the customer columns, then optionally more columns that fill
// turns into the hit's position; fill's slice has one element per such column.
func (db *DB) scan(ctx context.Context, r reuse, query string, args []any, fill func(*hit, []any)) ([]hit, error) {
	rows, err := db.queryRows(ctx, r, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	nExtra := len(cols) - customerColumnCount
	var out []hit
	for rows.Next() {
		var h hit
		pos := make([]any, nExtra)
		dest := make([]any, nExtra)
		for i := range pos {
			dest[i] = &pos[i]
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

// extraColumns are expressions selected after the customer columns, the FROM clause they
// need, and how their values fill a hit's position.
type extraColumns struct {
	exprs []string
	from  string
	fill  func(h *hit, v []any)
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

func asInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case int:
		return int64(n)
	}
	return 0
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (db *DB) searchEmail(ctx context.Context, p plan, cur cursor, limit int) ([]hit, error) {
	lo, hi := emailRange(p)
	extra := &extraColumns{exprs: []string{"c.email_lower"}, from: "FROM customers c", fill: func(h *hit, v []any) {
		h.sort = asString(v[0])
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

// emailRange is the range of stored addresses an email query matches.
func emailRange(p plan) (lo, hi string) {
	if p.EmailPrefix {
		return p.Value, prefixUpper(p.Value)
	}
	return p.Value, p.Value
}

// last4Where is the condition of a card search on the customers of alias a: a card with the
// last 4 and, with names, every name word starting with one of the query's words.
func last4Where(a string, p plan) (string, []any) {
	where := a + ".id IN (SELECT customer_id FROM cards WHERE last4 = ?)"
	args := []any{p.Value}
	for _, t := range p.Tokens {
		// Tokens are folded letters and digits only, so they hold no LIKE wildcards.
		where += " AND (' ' || " + a + ".search_name) LIKE ?"
		args = append(args, "% "+t+"%")
	}
	return where, args
}

// searchLast4 finds the page's customer ids first, from the indexes alone, and only then
// reads those customers' rows. A common last 4 has a couple of hundred customers: a plain card
// search takes the page's ids in order from cards_last4 (every card's customer exists, the
// schema's foreign key says so), and one with name words tests each candidate's name in
// customers_id_name, where reading every candidate's row to test its name was most of the
// search.
func (db *DB) searchLast4(ctx context.Context, p plan, cur cursor, limit int) ([]hit, error) {
	ids := "SELECT customer_id FROM cards WHERE last4 = ? AND customer_id > ? GROUP BY customer_id ORDER BY customer_id LIMIT ?"
	args := []any{p.Value, cur.ID, limit + 1}
	if len(p.Tokens) > 0 {
		var where string
		where, args = last4Where("m", p)
		ids = "SELECT m.id FROM customers m WHERE " + where + " AND m.id > ? ORDER BY m.id LIMIT ?"
		args = append(args, cur.ID, limit+1)
	}
	return db.query(ctx, "WHERE c.id IN ("+ids+") ORDER BY c.id", args, nil)
}
