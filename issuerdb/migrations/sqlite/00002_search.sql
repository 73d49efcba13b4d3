-- +goose Up
-- Secondary indexes and the name index, built over whatever rows exist (after a bulk load
-- this is far faster than maintaining them row by row).
CREATE UNIQUE INDEX customers_consumer_id ON customers (consumer_id);
CREATE INDEX customers_email ON customers (email_lower, id);
CREATE INDEX customers_phone ON customers (phone, id);
CREATE INDEX customers_name_key ON customers (name_key, sort_name, id);
CREATE INDEX customers_short_key ON customers (short_key, sort_name, id);
CREATE UNIQUE INDEX cards_id ON cards (id);
CREATE INDEX cards_customer ON cards (customer_id, position);
CREATE INDEX cards_last4 ON cards (last4, customer_id);

-- name_order numbers customers in display order (sort_name, id). The full-text index uses
-- that number as its rowid, so FTS5 hands name matches back already sorted and a page of 20
-- costs 20 lookups however many thousands of names share a prefix.
CREATE TABLE name_order (ord INTEGER PRIMARY KEY, customer_rowid INTEGER NOT NULL);
INSERT INTO name_order (customer_rowid) SELECT rowid FROM customers ORDER BY sort_name, id;

CREATE VIRTUAL TABLE customer_fts USING fts5 (
    name, content = '', tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
INSERT INTO customer_fts (rowid, name)
    SELECT o.ord, c.search_name FROM name_order o JOIN customers c ON c.rowid = o.customer_rowid;

-- +goose Down
DROP TABLE customer_fts;
DROP TABLE name_order;
DROP INDEX cards_last4;
DROP INDEX cards_customer;
DROP INDEX cards_id;
DROP INDEX customers_short_key;
DROP INDEX customers_name_key;
DROP INDEX customers_phone;
DROP INDEX customers_email;
DROP INDEX customers_consumer_id;
