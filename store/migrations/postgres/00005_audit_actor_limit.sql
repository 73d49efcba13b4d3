-- +goose NO TRANSACTION
-- +goose Up
-- A rate limit on an actor's events (audit.Limit: reveals a minute and a day) reads the most
-- recent successes of one action by one subject inside the append transaction. The indexes of
-- 00003 lead with the subject or the action but order by seq, so they would read every event
-- the subject ever had; this one reads at most the limit's count of index entries.
-- CONCURRENTLY: a trail of 400 days is large, and a plain CREATE INDEX would hold every
-- replica's audit commits, and so every data request, until the build ends.
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_actor_limit ON audit_events (actor_sub, action, outcome, at_ms);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS audit_events_actor_limit;
