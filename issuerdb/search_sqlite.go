package issuerdb

import "context"

// ftsMatches returns, on SQLite, the customers of the whole-words or the other rank after cur
// from the full-text index, whose rowids are the display order: a page costs a page of index
// steps however many names match. Customers of the ranks before are left out.
func (db *DB) ftsMatches(ctx context.Context, p plan, rank int, keys []string, cur cursor, n int) ([]hit, error) {
	match := ftsWholeWordsQuery(p.Tokens)
	if rank == rankOther {
		match = "(" + ftsPrefixQuery(p.Tokens) + ") NOT (" + match + ")"
	}
	extra := &extraColumns{
		exprs: []string{"f.rowid"},
		from:  "FROM customer_fts f JOIN name_order o ON o.ord = f.rowid JOIN customers c ON c.rowid = o.customer_rowid",
		fill:  func(h *hit, v []any) { h.phase, h.ord = rank, asInt(v[0]) },
	}
	where := "WHERE customer_fts MATCH ? AND f.rowid > ? AND c.name_key <> ? AND c.short_key <> ?"
	args := []any{match, cur.Ord, p.Key, p.Key}
	if len(keys) > 0 {
		cond, list, err := db.oneOf(keys)
		if err != nil {
			return nil, err
		}
		where += " AND NOT (c.short_key " + cond + ")"
		args = append(args, list...)
	}
	return db.query(ctx, where+" ORDER BY f.rowid LIMIT ?", append(args, n), extra)
}
