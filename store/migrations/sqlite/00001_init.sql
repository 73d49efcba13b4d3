-- +goose Up
-- The schema version table is goose's own; this first migration only records that the
-- dashboard's database exists. Sessions and the audit trail add their own migrations.
CREATE TABLE IF NOT EXISTS ctpdesk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- +goose Down
DROP TABLE IF EXISTS ctpdesk_meta;
