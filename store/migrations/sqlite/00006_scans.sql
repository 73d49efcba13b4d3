-- +goose Up
-- The portfolio drift scan. A scan is split into chunks of consecutive customer ids; each
-- chunk is one River job. Per customer the scan keeps states, counts, finding kinds and keyed
-- fingerprints of the compared values, never the values. Times are Unix milliseconds.
CREATE TABLE scans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_kind    TEXT NOT NULL CHECK (trigger_kind IN ('schedule', 'analyst', 'command')),
    start_key       TEXT UNIQUE,
    started_by      TEXT NOT NULL DEFAULT '',
    started_by_name TEXT NOT NULL DEFAULT '',
    filter          TEXT NOT NULL DEFAULT '{}',
    state           TEXT NOT NULL CHECK (state IN ('running', 'cancelled', 'finished')),
    generation      INTEGER NOT NULL DEFAULT 1,
    planned         INTEGER NOT NULL DEFAULT 0,
    customers_total INTEGER NOT NULL DEFAULT 0,
    chunks_total    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    cancelled_at    INTEGER,
    cancelled_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scans_state ON scans (state, id);
-- One scan runs at a time, whichever replica starts it.
CREATE UNIQUE INDEX scans_one_running ON scans (state) WHERE state = 'running';

-- counts is a JSON object recomputed from the chunk's scan_results rows in the transaction
-- that stores them, so a chunk worked twice (after a crash) is still counted once.
CREATE TABLE scan_chunks (
    scan_id    INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    chunk      INTEGER NOT NULL,
    after_id   TEXT NOT NULL,
    last_id    TEXT NOT NULL,
    customers  INTEGER NOT NULL,
    stored     INTEGER NOT NULL DEFAULT 0,
    counts     TEXT NOT NULL DEFAULT '{}',
    d1_calls   INTEGER NOT NULL DEFAULT 0,
    done       INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (scan_id, chunk)
);

CREATE TABLE scan_results (
    scan_id      INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    customer_id  TEXT NOT NULL,
    chunk        INTEGER NOT NULL,
    scanned_at   INTEGER NOT NULL,
    outcome      TEXT NOT NULL,
    error_class  TEXT NOT NULL DEFAULT '',
    directories  TEXT NOT NULL DEFAULT '',
    differences  INTEGER NOT NULL DEFAULT 0,
    equivalents  INTEGER NOT NULL DEFAULT 0,
    risks        INTEGER NOT NULL DEFAULT 0,
    warnings     INTEGER NOT NULL DEFAULT 0,
    kinds        TEXT NOT NULL DEFAULT '',
    fingerprints TEXT NOT NULL DEFAULT '',
    digest       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scan_id, customer_id)
);
CREATE INDEX scan_results_chunk ON scan_results (scan_id, chunk);

-- The latest scan of each customer, and the digest of the scan before, for "changed since
-- the last scan".
CREATE TABLE scan_customers (
    customer_id      TEXT PRIMARY KEY,
    scan_id          INTEGER NOT NULL,
    scanned_at       INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    digest           TEXT NOT NULL,
    previous_scan_id INTEGER,
    previous_digest  TEXT
);

-- One worklist item per customer the scans found something on. kinds, dq_kinds and
-- directories are comma-framed lists (",a,b,") so a filter is one LIKE. severity is 0 for a
-- risk, 1 for a data-quality warning.
CREATE TABLE worklist_items (
    customer_id     TEXT PRIMARY KEY,
    state           TEXT NOT NULL CHECK (state IN ('open', 'update-requested', 'no-action', 'escalated', 'resolved')),
    reason          TEXT NOT NULL DEFAULT '',
    decided_by      TEXT NOT NULL DEFAULT '',
    decided_by_name TEXT NOT NULL DEFAULT '',
    decided_at      INTEGER,
    severity        INTEGER NOT NULL,
    findings        INTEGER NOT NULL,
    dq_findings     INTEGER NOT NULL,
    kinds           TEXT NOT NULL,
    dq_kinds        TEXT NOT NULL,
    directories     TEXT NOT NULL,
    first_scan_id   INTEGER NOT NULL,
    last_scan_id    INTEGER NOT NULL,
    last_scanned_at INTEGER NOT NULL,
    changed         INTEGER NOT NULL DEFAULT 0,
    reopened_at     INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX worklist_by_severity ON worklist_items (severity, customer_id) WHERE findings > 0;
-- Agents see the items with a data-quality finding and no risk, by customer id.
CREATE INDEX worklist_data_quality ON worklist_items (severity, customer_id) WHERE dq_findings > 0;

CREATE TABLE worklist_decisions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id     TEXT NOT NULL,
    state           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    decided_by      TEXT NOT NULL,
    decided_by_name TEXT NOT NULL,
    decided_at      INTEGER NOT NULL
);
CREATE INDEX worklist_decisions_customer ON worklist_decisions (customer_id, id);

-- The deployment-wide D1 budget of the scan: one row per second of wall-clock time, shared by
-- every replica. scan_used counts the calls granted to scan workers, interactive the calls
-- people made. scan_backoff holds the whole scan back after a 429 or an open breaker.
CREATE TABLE scan_rate (
    second      INTEGER PRIMARY KEY,
    scan_used   INTEGER NOT NULL DEFAULT 0,
    interactive INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE scan_backoff (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    until_ms INTEGER NOT NULL,
    strikes  INTEGER NOT NULL,
    reason   TEXT NOT NULL
);
INSERT INTO scan_backoff (id, until_ms, strikes, reason) VALUES (1, 0, 0, '');

-- +goose Down
DROP TABLE scan_backoff;
DROP TABLE scan_rate;
DROP TABLE worklist_decisions;
DROP TABLE worklist_items;
DROP TABLE scan_customers;
DROP TABLE scan_results;
DROP TABLE scan_chunks;
DROP TABLE scans;
