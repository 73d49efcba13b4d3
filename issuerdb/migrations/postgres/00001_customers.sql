-- +goose Up
-- The issuer's records. Only tables and the keys rows are loaded by: secondary indexes and
-- the full-text index come in the next migration, so a bulk load can run between the two.
-- Columns that are compared or sorted use the "C" collation, so PostgreSQL orders them byte
-- by byte exactly as SQLite does.
CREATE TABLE customers (
    id               TEXT COLLATE "C" PRIMARY KEY,
    consumer_id      TEXT COLLATE "C" NOT NULL,
    first_name       TEXT NOT NULL,
    middle_name      TEXT NOT NULL DEFAULT '',
    last_name        TEXT NOT NULL,
    email            TEXT NOT NULL,
    email_lower      TEXT COLLATE "C" NOT NULL,
    phone            TEXT COLLATE "C" NOT NULL,
    language         TEXT NOT NULL,
    country          TEXT NOT NULL,
    addr_line1       TEXT NOT NULL DEFAULT '',
    addr_line2       TEXT NOT NULL DEFAULT '',
    addr_line3       TEXT NOT NULL DEFAULT '',
    addr_city        TEXT NOT NULL DEFAULT '',
    addr_region      TEXT NOT NULL DEFAULT '',
    addr_postal_code TEXT NOT NULL DEFAULT '',
    addr_country     TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'closed')),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    -- Derived by the loader with issuerdb.Fold: see fold.go.
    search_name      TEXT COLLATE "C" NOT NULL,
    sort_name        TEXT COLLATE "C" NOT NULL,
    name_key         TEXT COLLATE "C" NOT NULL,
    short_key        TEXT COLLATE "C" NOT NULL
);

-- Card ids are random: their unique index is built after the load (next migration), where
-- maintaining it row by row would cost a random B-tree insert per card.
CREATE TABLE cards (
    id               TEXT COLLATE "C" NOT NULL,
    customer_id      TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
    position         INTEGER NOT NULL,
    scheme           TEXT NOT NULL,
    last4            TEXT COLLATE "C" NOT NULL CHECK (length(last4) = 4),
    expiry_month     INTEGER NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
    expiry_year      INTEGER NOT NULL,
    cardholder_name  TEXT NOT NULL,
    bill_line1       TEXT NOT NULL DEFAULT '',
    bill_line2       TEXT NOT NULL DEFAULT '',
    bill_line3       TEXT NOT NULL DEFAULT '',
    bill_city        TEXT NOT NULL DEFAULT '',
    bill_region      TEXT NOT NULL DEFAULT '',
    bill_postal_code TEXT NOT NULL DEFAULT '',
    bill_country     TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'lost', 'stolen', 'closed', 'expired')),
    product          TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE cards;
DROP TABLE customers;
