-- +goose Up
-- Rows found beyond the sealed chain head (package audit). Every append writes its events,
-- its checkpoints and the head in one transaction, so an event with a seq after the head, or a
-- checkpoint numbered after the head's last one, was never written by the trail. The next
-- append moves such rows here unchanged, with the time they were found, instead of failing on
-- them forever; verification reports every row here until an operator has reviewed and
-- removed it.
CREATE TABLE audit_set_aside_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    found_ms    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    v           INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
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

CREATE TABLE audit_set_aside_checkpoints (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    found_ms INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    hash     TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    at_ms    INTEGER NOT NULL,
    key_id   TEXT    NOT NULL,
    mac      TEXT    NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS audit_set_aside_checkpoints;
DROP TABLE IF EXISTS audit_set_aside_events;
