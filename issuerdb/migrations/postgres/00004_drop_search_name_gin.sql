-- +goose Up
-- No search reads the full-text GIN index over search_name any more: names are found through
-- name_key, short_key, name_given_words and the ordered name_tokens runs. It cost every
-- insert and rename an index update and 8 MB at a million customers.
DROP INDEX IF EXISTS customers_search_name;

-- +goose Down
CREATE INDEX customers_search_name ON customers USING gin (to_tsvector('simple'::regconfig, search_name));
