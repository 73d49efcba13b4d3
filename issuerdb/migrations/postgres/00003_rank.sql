-- +goose Up
-- The distinct words of first and last names (short_key), which a query word completes to
-- when a search ranks "smi jo" as the start of John Smith's name. A trigger adds the words of
-- new and renamed customers; a word nobody has any more only makes a search try a name with
-- no customers.
CREATE TABLE name_given_words (word TEXT COLLATE "C" PRIMARY KEY);
INSERT INTO name_given_words (word)
    SELECT DISTINCT t.word FROM customers c, unnest(string_to_array(c.short_key, ' ')) AS t (word)
    WHERE t.word <> '';

-- +goose StatementBegin
CREATE FUNCTION name_given_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_given_words (word)
        SELECT DISTINCT t.word FROM unnest(string_to_array(NEW.short_key, ' ')) AS t (word) WHERE t.word <> ''
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER customers_name_given_words AFTER INSERT OR UPDATE OF short_key
    ON customers FOR EACH ROW EXECUTE FUNCTION name_given_words_add();

-- +goose Down
DROP TRIGGER customers_name_given_words ON customers;
DROP FUNCTION name_given_words_add();
DROP TABLE name_given_words;
