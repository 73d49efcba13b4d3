-- +goose Up
-- The distinct words of the name index (search_name, middle names included), which a count
-- writes a long query word's prefix as the OR of: FTS5 answers a prefix longer than its
-- prefix indexes by merging every matching word's whole list of names before it stops at
-- the count's cap, where an OR of the words is read lazily. The words are read from the
-- index itself (fts5vocab), so they are exactly the terms its tokenizer made of search_name.
CREATE TABLE name_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE temp.customer_fts_terms USING fts5vocab (main, customer_fts, col);
INSERT INTO name_words (word) SELECT term FROM temp.customer_fts_terms WHERE col = 'name';
DROP TABLE temp.customer_fts_terms;

-- +goose Down
DROP TABLE name_words;
