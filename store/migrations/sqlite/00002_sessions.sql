-- +goose Up
-- Server-side sessions. The browser's cookie holds a random id; only its SHA-256 is stored
-- here, so a copy of this table cannot be replayed as cookies. Times are Unix milliseconds so
-- the same queries serve SQLite and PostgreSQL.
CREATE TABLE auth_sessions (
    id_hash      TEXT PRIMARY KEY,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX auth_sessions_last_seen ON auth_sessions (last_seen_at);
CREATE INDEX auth_sessions_created ON auth_sessions (created_at);

-- Pre-login records hold the state, nonce and PKCE verifier of one sign-in attempt between
-- the redirect to the provider and its callback. Each is used once and lives ten minutes.
CREATE TABLE auth_prelogins (
    id_hash    TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    verifier   TEXT NOT NULL,
    return_to  TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX auth_prelogins_expires ON auth_prelogins (expires_at);

-- +goose Down
DROP TABLE IF EXISTS auth_prelogins;
DROP TABLE IF EXISTS auth_sessions;
