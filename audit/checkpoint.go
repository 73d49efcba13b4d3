package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"ctpdesk/store"
)

// Checkpoint kinds. A periodic checkpoint is sealed every CheckpointEvery events; a purge
// checkpoint is sealed by the retention purge and marks where the retained chain starts.
const (
	kindPeriodic = "periodic"
	kindPurge    = "purge"
)

// checkpoint is one sealed statement "the event at Seq had hash Hash", numbered N. Numbers are
// consecutive, and the head's seal covers the last one, so a dropped checkpoint shows.
type checkpoint struct {
	N     int64
	Seq   int64
	Hash  string
	Kind  string
	AtMS  int64
	KeyID string
	MAC   string
}

func (t *Trail) newCheckpoint(n int64, kind string, seq int64, hash string) checkpoint {
	at := t.opts.Now().UnixMilli()
	return checkpoint{
		N: n, Seq: seq, Hash: hash, Kind: kind, AtMS: at, KeyID: t.seal.keyID,
		MAC: t.seal.checkpointMAC(n, kind, seq, hash, at),
	}
}

func insertCheckpoint(ctx context.Context, db *store.DB, tx *sql.Tx, c checkpoint) error {
	_, err := tx.ExecContext(ctx, db.Rebind(
		"INSERT INTO audit_checkpoints ("+checkpointColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
		c.N, c.Seq, c.Hash, c.Kind, c.AtMS, c.KeyID, c.MAC)
	if err != nil {
		return fmt.Errorf("insert checkpoint: %w", err)
	}
	return nil
}

// valid reports whether the checkpoint's seal verifies under s.
func (c checkpoint) valid(s sealer) bool {
	return c.KeyID == s.keyID && equalMAC(c.MAC, s.checkpointMAC(c.N, c.Kind, c.Seq, c.Hash, c.AtMS))
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadCheckpoint reads checkpoint n, nil when there is none.
func loadCheckpoint(ctx context.Context, db *store.DB, tx *sql.Tx, n int64) (*checkpoint, error) {
	var c checkpoint
	err := tx.QueryRowContext(ctx, db.Rebind("SELECT "+checkpointColumns+" FROM audit_checkpoints WHERE n = ?"), n).
		Scan(&c.N, &c.Seq, &c.Hash, &c.Kind, &c.AtMS, &c.KeyID, &c.MAC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %d: %w", n, err)
	}
	return &c, nil
}

// loadCheckpoints reads the checkpoints numbered after afterN, in order.
func loadCheckpoints(ctx context.Context, db *store.DB, q querier, afterN int64) ([]checkpoint, error) {
	rows, err := q.QueryContext(ctx, db.Rebind("SELECT "+checkpointColumns+" FROM audit_checkpoints WHERE n > ? ORDER BY n"), afterN)
	if err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	defer rows.Close()
	var out []checkpoint
	for rows.Next() {
		var c checkpoint
		if err := rows.Scan(&c.N, &c.Seq, &c.Hash, &c.Kind, &c.AtMS, &c.KeyID, &c.MAC); err != nil {
			return nil, fmt.Errorf("load checkpoints: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	return out, nil
}
