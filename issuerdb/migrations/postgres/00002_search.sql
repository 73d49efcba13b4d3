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
CREATE UNIQUE INDEX cards_id ON cards (id);
CREATE INDEX cards_customer ON cards (customer_id, position);
CREATE INDEX cards_last4 ON cards (last4, customer_id);
-- name_tokens lists each word of each customer's folded name with the customer's display
-- order, so the customers whose names hold a given word come out of one index already in
-- display order: a name-prefix search merges a few such runs and stops after one page
-- (see search_postgres.go). A trigger keeps it in step with customers.
CREATE TABLE name_tokens (
    token       TEXT COLLATE "C" NOT NULL,
    sort_name   TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    search_name TEXT COLLATE "C" NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,
    short_key   TEXT COLLATE "C" NOT NULL
);
INSERT INTO name_tokens (token, sort_name, id, search_name, name_key, short_key)
    SELECT t.token, c.sort_name, c.id, c.search_name, c.name_key, c.short_key
    FROM customers c, unnest(string_to_array(c.search_name, ' ')) AS t (token)
    WHERE t.token <> '';
-- The included columns let a run be read and filtered from the index alone.
CREATE INDEX name_tokens_order ON name_tokens (token, sort_name, id) INCLUDE (search_name, name_key, short_key);
CREATE INDEX name_tokens_customer ON name_tokens (id);

-- +goose StatementBegin
CREATE FUNCTION name_tokens_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM name_tokens WHERE id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO name_tokens (token, sort_name, id, search_name, name_key, short_key)
            SELECT t.token, NEW.sort_name, NEW.id, NEW.search_name, NEW.name_key, NEW.short_key
            FROM unnest(string_to_array(NEW.search_name, ' ')) AS t (token) WHERE t.token <> '';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER customers_name_tokens AFTER INSERT OR DELETE OR UPDATE OF id, search_name, sort_name, name_key, short_key
    ON customers FOR EACH ROW EXECUTE FUNCTION name_tokens_sync();

-- How many customers have each name word: the search starts from the rarest word of a query.
-- Stale counts only make a search slower, never wrong.
CREATE TABLE name_vocab (token TEXT COLLATE "C" PRIMARY KEY, customers BIGINT NOT NULL);
INSERT INTO name_vocab (token, customers) SELECT token, count(*) FROM name_tokens GROUP BY token;
ANALYZE name_tokens;
ANALYZE customers;
ANALYZE cards;

-- +goose Down
DROP TABLE name_vocab;
DROP TRIGGER customers_name_tokens ON customers;
DROP FUNCTION name_tokens_sync();
DROP TABLE name_tokens;
DROP INDEX cards_last4;
DROP INDEX cards_customer;
DROP INDEX cards_id;
DROP INDEX customers_search_name;
DROP INDEX customers_sort_name;
DROP INDEX customers_short_key;
DROP INDEX customers_name_key;
DROP INDEX customers_phone;
DROP INDEX customers_email;
DROP INDEX customers_consumer_id;
