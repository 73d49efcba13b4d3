-- +goose Up
-- The name index gets a second column, fl: the words of the first and last name alone
-- (short_key), so a search can rank whole first and last names above prefixes and middle
-- names. detail=column keeps no word positions: searches never ask for phrases.
DROP TABLE customer_fts;
CREATE VIRTUAL TABLE customer_fts USING fts5 (
    name, fl, content = '', detail = column, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
INSERT INTO customer_fts (rowid, name, fl)
    SELECT o.ord, c.search_name, c.short_key FROM name_order o JOIN customers c ON c.rowid = o.customer_rowid;

-- The distinct words of first and last names, which a query word completes to when a search
-- ranks "smi jo" as the start of John Smith's name.
CREATE TABLE name_given_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
WITH RECURSIVE split (rest, word) AS (
    SELECT short_key || ' ', '' FROM customers
    UNION ALL
    SELECT substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1) FROM split WHERE rest <> ''
)
INSERT OR IGNORE INTO name_given_words (word) SELECT word FROM split WHERE word <> '';

-- +goose Down
DROP TABLE name_given_words;
DROP TABLE customer_fts;
CREATE VIRTUAL TABLE customer_fts USING fts5 (
    name, content = '', tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
INSERT INTO customer_fts (rowid, name)
    SELECT o.ord, c.search_name FROM name_order o JOIN customers c ON c.rowid = o.customer_rowid;
