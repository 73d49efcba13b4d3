-- +goose Up
-- Merge the name index into one segment. Loading a portfolio leaves FTS5 with several
-- segments (about ten for a million customers), and every name search and count then walks
-- each segment's list of names and merges them; one segment halves that work for a prefix
-- (name searches at a million customers: about a quarter faster). A SQLite issuer database
-- is a snapshot written by Seed, so the index stays merged once merged.
INSERT INTO customer_fts (customer_fts) VALUES ('optimize');

-- +goose Down
-- A merged index holds the same names as a segmented one: nothing to undo.
SELECT 1;
