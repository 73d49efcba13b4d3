-- +goose NO TRANSACTION
-- +goose Up
-- The name words of each first letter in display order. A name search merges one ordered run
-- of name_tokens per word its shortest query word starts, which suits a prefix of a few
-- words; a real portfolio has thousands of distinct surnames, and a one- or two-letter prefix
-- starts thousands of them: the merge would be a statement of thousands of branches, planned
-- afresh for every search (seconds), or more parameters than a statement may have. Past
-- maxRunWords words the search reads the prefix's rows from this index instead, already in
-- display order, keeping those whose token starts with the prefix (see prefixRunsOf).
-- CONCURRENTLY: the issuer's own loads keep writing name_tokens through the trigger while
-- the index builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS name_tokens_initial ON name_tokens (left(token, 1), sort_name, id)
    INCLUDE (token, search_name, name_key, short_key);
-- The planner's statistics for the index's expression.
ANALYZE name_tokens;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS name_tokens_initial;
