package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"ctpdesk/store"
)

// eventColumns is the column list of audit_events in the order rowArgs produces values.
const eventColumns = "seq, v, at_ms, actor_iss, actor_sub, actor_name, actor_roles, action, outcome, " +
	"customer_id, details, client_ip, user_agent, request_id, prev_hash, hash"

const eventColumnCount = 16

// insertChunk bounds the rows of one multi-row INSERT, well inside both engines' limits on
// bound parameters.
const insertChunk = 128

// head is the chain head row as read inside an append or purge transaction.
type head struct {
	seq         int64
	hash        string
	checkpointN int64
	keyID       string
	mac         string
}

// lockHead starts the serialised section of an append or purge. SQLite transactions are
// BEGIN IMMEDIATE (the store's SQLite settings set _txlock), which already excludes every other writer,
// in this process or another; PostgreSQL takes the head row's lock, which every replica's
// appends wait for. Either way seq and the previous hash come from the database, never from
// this process's memory.
func lockHead(ctx context.Context, db *store.DB, tx *sql.Tx) (head, error) {
	q := sqlHead
	if db.Dialect == store.Postgres {
		// Durability of this transaction must not depend on the server's or role's default.
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit TO on"); err != nil {
			return head{}, fmt.Errorf("synchronous_commit: %w", err)
		}
		q += " FOR UPDATE"
	}
	st, err := txStmt(ctx, db, tx, q)
	if err != nil {
		return head{}, fmt.Errorf("lock head: %w", err)
	}
	var h head
	if err := st.QueryRowContext(ctx).Scan(&h.seq, &h.hash, &h.checkpointN, &h.keyID, &h.mac); err != nil {
		return head{}, fmt.Errorf("lock head: %w", err)
	}
	return h, nil
}

// The statements every append runs, prepared once (store.DB.Prepared).
const (
	sqlHead      = "SELECT seq, hash, checkpoint_n, key_id, mac FROM audit_head WHERE id = 1"
	sqlWriteHead = "UPDATE audit_head SET seq = ?, hash = ?, checkpoint_n = ?, key_id = ?, mac = ? WHERE id = 1"
)

// sqlInsertEvent inserts one event row.
var sqlInsertEvent = "INSERT INTO audit_events (" + eventColumns + ") VALUES (" + strings.Repeat("?, ", eventColumnCount-1) + "?)"

// txStmt returns query's prepared statement bound to tx; it is released with tx.
func txStmt(ctx context.Context, db *store.DB, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := db.Prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st), nil
}

func (t *Trail) beginWrite(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{}
	if t.db.Dialect == store.Postgres {
		opts.Isolation = sql.LevelReadCommitted
	}
	tx, err := t.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return tx, nil
}

// seals are the checkpoints an append sealed, for the witness once the append has committed,
// and the checkpoint before the first of them, which the witness takes again (a witness that
// already holds it as its last record skips it): if the process that sealed it died between
// its commit and its witness write, the next seal, by any process, fills the gap.
type seals struct {
	previous *checkpoint
	made     []checkpoint
}

// appendTx appends the events of batch in one transaction: it applies the limits of the events
// that carry some, assigns consecutive seqs after the head, chains the hashes, seals a
// checkpoint at every multiple of CheckpointEvery, and reseals the head. The events are
// updated in place with their seq and hashes.
func (t *Trail) appendTx(ctx context.Context, batch []*pending) (seals, error) {
	evs := make([]*Event, len(batch))
	for i, p := range batch {
		evs[i] = &p.ev
	}
	var out seals
	err := t.inWriteTx(ctx, func(tx *sql.Tx, h head) (head, error) {
		out = seals{}
		if err := t.applyLimits(ctx, tx, h.seq, batch); err != nil {
			return h, err
		}
		before := h.checkpointN
		prev := h.hash
		for _, e := range evs {
			e.Seq = h.seq + 1
			h.seq = e.Seq
			e.PrevHash = prev
			hash, ok := chainHash(prev, e)
			if !ok {
				return h, fmt.Errorf("chain head hash %q is not a SHA-256 hex digest", clean(prev, 80))
			}
			e.Hash = hash
			prev = hash
			if e.Seq%t.opts.CheckpointEvery == 0 {
				h.checkpointN++
				out.made = append(out.made, t.newCheckpoint(h.checkpointN, kindPeriodic, e.Seq, e.Hash))
			}
		}
		h.hash = prev
		for start := 0; start < len(evs); start += insertChunk {
			if err := t.insertEvents(ctx, tx, evs[start:min(start+insertChunk, len(evs))]); err != nil {
				return h, err
			}
		}
		for _, c := range out.made {
			if err := insertCheckpoint(ctx, t.db, tx, c); err != nil {
				return h, err
			}
		}
		if len(out.made) > 0 && before > 0 && t.opts.Witness != nil {
			c, err := loadCheckpoint(ctx, t.db, tx, before)
			if err != nil {
				return h, err
			}
			out.previous = c
		}
		return h, nil
	})
	if err != nil {
		return seals{}, err
	}
	return out, nil
}

// inWriteTx runs fn inside a serialised write transaction holding the chain head and writes
// back the head fn returns, resealed.
func (t *Trail) inWriteTx(ctx context.Context, fn func(*sql.Tx, head) (head, error)) (err error) {
	tx, err := t.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	h, err := lockHead(ctx, t.db, tx)
	if err != nil {
		return err
	}
	nh, err := fn(tx, h)
	if err != nil {
		return err
	}
	if nh != h {
		if err := t.writeHead(ctx, tx, nh.seq, nh.hash, nh.checkpointN); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *Trail) insertEvents(ctx context.Context, tx *sql.Tx, evs []*Event) error {
	if t.db.Dialect == store.SQLite {
		return t.insertEachEvent(ctx, tx, evs)
	}
	var q strings.Builder
	q.WriteString("INSERT INTO audit_events (" + eventColumns + ") VALUES ")
	row := "(" + strings.Repeat("?, ", eventColumnCount-1) + "?)"
	args := make([]any, 0, len(evs)*eventColumnCount)
	for i, e := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
		a, err := rowArgs(e)
		if err != nil {
			return err
		}
		args = append(args, a...)
	}
	if _, err := tx.ExecContext(ctx, t.db.Rebind(q.String()), args...); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// insertEachEvent inserts evs one row at a time through one prepared statement, which is what
// suits SQLite: it runs in this process, so a statement per row costs no round trip, and a
// single-row INSERT needs no statement journal, which a multi-row one writes on every commit.
func (t *Trail) insertEachEvent(ctx context.Context, tx *sql.Tx, evs []*Event) error {
	st, err := txStmt(ctx, t.db, tx, sqlInsertEvent)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	for _, e := range evs {
		a, err := rowArgs(e)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, a...); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
	}
	return nil
}

func rowArgs(e *Event) ([]any, error) {
	roles := e.Actor.Roles
	if roles == nil {
		roles = []string{}
	}
	rolesJSON, err := json.Marshal(roles)
	if err != nil {
		return nil, fmt.Errorf("encode roles: %w", err)
	}
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	detailsJSON, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("encode details: %w", err)
	}
	return []any{
		e.Seq, EncodingVersion, e.Time.UnixMilli(), e.Actor.Issuer, e.Actor.Subject, e.Actor.Name,
		string(rolesJSON), string(e.Action), string(e.Outcome), e.CustomerID, string(detailsJSON),
		e.ClientIP, e.UserAgent, e.RequestID, e.PrevHash, e.Hash,
	}, nil
}

func (t *Trail) writeHead(ctx context.Context, tx *sql.Tx, seq int64, hash string, checkpointN int64) error {
	mac := t.seal.headMAC(seq, hash, checkpointN)
	st, err := txStmt(ctx, t.db, tx, sqlWriteHead)
	if err == nil {
		_, err = st.ExecContext(ctx, seq, hash, checkpointN, t.seal.keyID, mac)
	}
	if err != nil {
		return fmt.Errorf("update head: %w", err)
	}
	return nil
}
