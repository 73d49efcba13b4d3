-- +goose Up
-- Each customer's name beside its id, so a card search with name words ("4242 smith") tests
-- the names of the last 4's customers from this index alone (an index-only scan) and reads
-- only the matching customers' rows (see searchLast4).
CREATE INDEX customers_id_name ON customers (id, search_name);
ANALYZE customers;

-- +goose Down
DROP INDEX customers_id_name;
