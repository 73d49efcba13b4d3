package issuerdb

import (
	"context"
	"strings"
)

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

// Limits of the long query words a SQLite count writes out as the name words they start.
const (
	// indexedPrefixLen is the longest prefix customer_fts indexes (prefix = '1 2 3'): FTS5
	// reads a shorter query word's names from a prefix index, lazily, already.
	indexedPrefixLen = 3
	// defaultMaxWrittenOut is the most words a query word is written out as (DB.maxWrittenOut):
	// a query word starting more stays a prefix, so the query's text stays bounded.
	defaultMaxWrittenOut = 64
)

// countNamesSQLite counts, up to DB.countCap+1, the customers whose name words start with
// every token. FTS5 answers a prefix longer than its prefix indexes by merging the whole list
// of names of every word the prefix starts before the count's LIMIT applies, so the count
// asks for such a token's words instead ("smith" OR "smithson" for "smith"), which it reads
// lazily: the same names, up to the cap, for a fraction of the work on a large portfolio.
// The MATCH text is a bound value, so the statement keeps one text whatever the words.
func (db *DB) countNamesSQLite(ctx context.Context, tokens []string) (int, error) {
	match, none, err := db.ftsCountQuery(ctx, tokens)
	if err != nil || none {
		return 0, err
	}
	return db.countRows(ctx, "SELECT rowid FROM customer_fts WHERE customer_fts MATCH ?", match)
}

// ftsCountQuery is ftsPrefixQuery(tokens) with each token longer than the indexed prefixes
// written as the OR of the name words it starts (name_words holds the index's terms); none
// says a token starts no name word, so nothing matches. Only tokens of a–z and 0–9 are
// written out: the tokenizer leaves those as they are, so the words that start with one are
// exactly the terms its prefix matches. The generated names fold to nothing else
// (TestNameWordsAreTheIndexedWords); any other token stays a prefix, which is only slower.
func (db *DB) ftsCountQuery(ctx context.Context, tokens []string) (match string, none bool, err error) {
	terms := ftsPrefixTerms(tokens)
	for i, t := range tokens {
		if len(t) <= indexedPrefixLen || !isLowerAlnumASCII(t) {
			continue
		}
		words, err := db.wordsStarting(ctx, "name_words", t, db.maxWrittenOut+1)
		if err != nil {
			return "", false, err
		}
		if len(words) == 0 {
			return "", true, nil
		}
		if len(words) <= db.maxWrittenOut {
			for j, w := range words {
				words[j] = ftsQuote(w)
			}
			terms[i] = "(" + strings.Join(words, " OR ") + ")"
		}
	}
	return ftsNameQuery(terms), false, nil
}

// isLowerAlnumASCII says whether s holds only a–z and 0–9.
func isLowerAlnumASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
