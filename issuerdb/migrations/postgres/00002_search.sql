-- +goose Up
-- Secondary indexes and the name index, built over whatever rows exist (after a bulk load
-- this is far faster than maintaining them row by row).
CREATE UNIQUE INDEX customers_consumer_id ON customers (consumer_id);
CREATE INDEX customers_email ON customers (email_lower, id);
CREATE INDEX customers_phone ON customers (phone, id);
CREATE INDEX customers_name_key ON customers (name_key, sort_name, id);
CREATE INDEX customers_short_key ON customers (short_key, sort_name, id);
CREATE INDEX customers_sort_name ON customers (sort_name, id);
-- search_name is already folded (lower case, no diacritics) by the loader; the "simple"
-- configuration only splits it into words, and prefix queries (to_tsquery 'smi:*') use it.
CREATE INDEX customers_search_name ON customers USING gin (to_tsvector('simple'::regconfig, search_name));
CREATE INDEX cards_customer ON cards (customer_id, position);
CREATE INDEX cards_last4 ON cards (last4, customer_id);
ANALYZE customers;
ANALYZE cards;

-- +goose Down
DROP INDEX cards_last4;
DROP INDEX cards_customer;
DROP INDEX customers_search_name;
DROP INDEX customers_sort_name;
DROP INDEX customers_short_key;
DROP INDEX customers_name_key;
DROP INDEX customers_phone;
DROP INDEX customers_email;
DROP INDEX customers_consumer_id;
