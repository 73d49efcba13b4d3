-- +goose NO TRANSACTION
-- +goose Up
-- The name words of each two-letter initial in display order, beside name_tokens_initial's
-- one letter. A prefix of more than maxRunWords words is read as the one run of its initial;
-- with one letter only, a prefix of two letters that starts a surname cluster of a real
-- portfolio ("mc", "mu", a few thousand rows in a hundred surnames) passed every other row of
-- its letter to find its own: tens of thousands of rows for one page, and its whole letter for
-- the count. The run of its first two letters holds its rows alone (see prefixRunsOf).
-- CONCURRENTLY: the issuer's own loads keep writing name_tokens through the trigger while the
-- index builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS name_tokens_initials ON name_tokens (left(token, 2), sort_name, id)
    INCLUDE (token, search_name, name_key, short_key);
-- The planner's statistics for the index's expression.
ANALYZE name_tokens;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS name_tokens_initials;
