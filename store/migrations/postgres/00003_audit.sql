-- +goose Up
-- The audit trail (package audit). Events are hash-chained by seq; audit_head is the single
-- row every append locks (SELECT ... FOR UPDATE) and updates, so the chain stays one line
-- even when several replicas write; audit_checkpoints hold the HMAC-sealed checkpoints.
CREATE TABLE audit_events (
    seq         BIGINT  PRIMARY KEY,
    v           INTEGER NOT NULL,
    at_ms       BIGINT  NOT NULL,
    actor_iss   TEXT    NOT NULL,
    actor_sub   TEXT    NOT NULL,
    actor_name  TEXT    NOT NULL,
    actor_roles TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    details     TEXT    NOT NULL,
    client_ip   TEXT    NOT NULL,
    user_agent  TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);
CREATE INDEX audit_events_customer ON audit_events (customer_id, seq);
CREATE INDEX audit_events_actor_sub ON audit_events (actor_sub, seq);
CREATE INDEX audit_events_actor_name ON audit_events (actor_name, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_at ON audit_events (at_ms);

-- Events are never edited; only the retention purge deletes them. The trigger is a guard
-- against accidents, not a security boundary: the hash chain and the seals are.
-- +goose StatementBegin
CREATE FUNCTION audit_events_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_no_update();

CREATE TABLE audit_checkpoints (
    n      BIGINT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT   NOT NULL,
    kind   TEXT   NOT NULL,
    at_ms  BIGINT NOT NULL,
    key_id TEXT   NOT NULL,
    mac    TEXT   NOT NULL
);

CREATE TABLE audit_head (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    seq          BIGINT  NOT NULL,
    hash         TEXT    NOT NULL,
    checkpoint_n BIGINT  NOT NULL,
    key_id       TEXT    NOT NULL,
    mac          TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash, checkpoint_n, key_id, mac)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0, '', '');

-- +goose Down
DROP TABLE IF EXISTS audit_head;
DROP TABLE IF EXISTS audit_checkpoints;
DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events;
DROP FUNCTION IF EXISTS audit_events_no_update();
DROP TABLE IF EXISTS audit_events;
