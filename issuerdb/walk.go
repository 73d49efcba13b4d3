package issuerdb

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxWalkPage bounds one page of a portfolio walk.
const MaxWalkPage = 5000

// WalkFilter narrows a walk over the portfolio. The zero filter is every customer with a D1
// consumer id.
type WalkFilter struct {
	// FromID and ToID bound the customer ids, both inclusive; empty leaves that end open.
	FromID, ToID string
	// ChangedSince keeps customers whose record changed at or after this time; zero keeps all.
	ChangedSince time.Time
	// Directory keeps customers holding a card of this scheme (e.g. "VISA"); empty keeps all.
	Directory string
}

// Validate refuses a filter no stored id or scheme could match in a useful way.
func (f WalkFilter) Validate() error {
	for _, v := range []string{f.FromID, f.ToID, f.Directory} {
		if len(v) > 64 || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return invalid("a scan filter value must be at most 64 printable characters")
		}
	}
	if f.FromID != "" && f.ToID != "" && f.FromID > f.ToID {
		return invalid("the first customer id of the range comes after the last")
	}
	return nil
}

// walkWhere writes the filter as SQL conditions on customers aliased c, after "consumer id set".
func (db *DB) walkWhere(f WalkFilter) (string, []any) {
	conds := []string{"c.consumer_id <> ''"}
	var args []any
	if f.FromID != "" {
		conds, args = append(conds, "c.id >= ?"), append(args, f.FromID)
	}
	if f.ToID != "" {
		conds, args = append(conds, "c.id <= ?"), append(args, f.ToID)
	}
	if !f.ChangedSince.IsZero() {
		col := "c.updated_at"
		if db.dialect == postgresDialect {
			col = "CAST(extract(epoch FROM c.updated_at) AS BIGINT)"
		}
		conds, args = append(conds, col+" >= ?"), append(args, f.ChangedSince.Unix())
	}
	if f.Directory != "" {
		conds, args = append(conds, "EXISTS (SELECT 1 FROM cards d WHERE d.customer_id = c.id AND d.scheme = ?)"), append(args, f.Directory)
	}
	return strings.Join(conds, " AND "), args
}

// CustomerIDsAfter returns, in id order, up to limit ids of customers with a consumer id that
// match f and come after the id after ("" starts at the beginning). It is a keyset walk on the
// primary key: each page costs the same however far into the portfolio it is.
func (db *DB) CustomerIDsAfter(ctx context.Context, after string, limit int, f WalkFilter) ([]string, error) {
	if limit < 1 || limit > MaxWalkPage {
		return nil, fmt.Errorf("issuerdb: walk: page of %d is out of range [1, %d]", limit, MaxWalkPage)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	where, args := db.walkWhere(f)
	q := db.rebind("SELECT c.id FROM customers c WHERE " + where + " AND c.id > ? ORDER BY c.id LIMIT ?")
	rows, err := db.db.QueryContext(ctx, q, append(args, after, limit)...)
	if err != nil {
		return nil, fmt.Errorf("issuerdb: walk: %w", err)
	}
	defer rows.Close()
	ids := make([]string, 0, limit)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("issuerdb: walk: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("issuerdb: walk: %w", err)
	}
	return ids, nil
}

// CustomersBetween returns the customers with a consumer id matching f whose ids lie after
// after and up to last (inclusive), in id order, cards included: one page of the walk
// CustomerIDsAfter planned, read in two queries. At most MaxWalkPage customers come back.
func (db *DB) CustomersBetween(ctx context.Context, after, last string, f WalkFilter) ([]Customer, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	where, args := db.walkWhere(f)
	q := db.rebind("SELECT " + db.customerColumns("c.") + " FROM customers c WHERE " + where +
		" AND c.id > ? AND c.id <= ? ORDER BY c.id LIMIT ?")
	rows, err := db.db.QueryContext(ctx, q, append(args, after, last, MaxWalkPage)...)
	if err != nil {
		return nil, fmt.Errorf("issuerdb: walk: %w", err)
	}
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("issuerdb: walk: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("issuerdb: walk: %w", err)
	}
	rows.Close()
	ids := make([]string, len(out))
	for i, c := range out {
		ids[i] = c.ID
	}
	cards, err := db.cardsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Cards = cards[out[i].ID]
	}
	return out, nil
}
