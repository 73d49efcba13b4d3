package audit

import (
	"context"
	"strings"
	"testing"

	"ctpdesk/store"
)

// attacker edits the database directly, as someone with write access to it but without the
// HMAC key would. It first drops the append-only trigger, which such a person could do too.
type attacker struct {
	t  *testing.T
	db *store.DB
}

func newAttacker(t *testing.T, db *store.DB) attacker {
	t.Helper()
	q := "DROP TRIGGER audit_events_no_update"
	if db.Dialect == store.Postgres {
		q += " ON audit_events"
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("drop trigger: %v", err)
	}
	return attacker{t: t, db: db}
}

func (a attacker) exec(q string, args ...any) {
	a.t.Helper()
	if _, err := a.db.Exec(a.db.Rebind(q), args...); err != nil {
		a.t.Fatalf("%s: %v", q, err)
	}
}

func (a attacker) read(seq int64) Event {
	a.t.Helper()
	rows, err := a.db.Query(a.db.Rebind("SELECT "+eventColumns+" FROM audit_events WHERE seq = ?"), seq)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		a.t.Fatalf("no event %d", seq)
	}
	s, err := scanEvent(rows)
	if err != nil {
		a.t.Fatal(err)
	}
	return s.Event
}

// rehash recomputes the SHA-256 chain of events from..to (anyone can: the algorithm is
// public) after changing the customer id of from, and moves the head's hash along without
// being able to reseal it.
func (a attacker) rehash(from, to int64) {
	a.t.Helper()
	prev := a.read(from).PrevHash
	for seq := from; seq <= to; seq++ {
		e := a.read(seq)
		if seq == from {
			e.CustomerID = "C999999"
		}
		e.PrevHash = prev
		h, _ := chainHash(prev, &e)
		a.exec("UPDATE audit_events SET customer_id = ?, prev_hash = ?, hash = ? WHERE seq = ?", e.CustomerID, prev, h, seq)
		prev = h
	}
	a.exec("UPDATE audit_head SET hash = ? WHERE id = 1 AND seq = ?", prev, to)
}

func TestTamperDetection(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(a attacker)
		seq     int64
		problem string
	}{
		{"change a field", func(a attacker) {
			a.exec("UPDATE audit_events SET customer_id = 'C000042' WHERE seq = 13")
		}, 13, "hash does not match the event's contents"},
		{"change a detail", func(a attacker) {
			a.exec(`UPDATE audit_events SET details = '{"n":"12","view":"full"}' WHERE seq = 13`)
		}, 13, "hash does not match the event's contents"},
		{"change the time", func(a attacker) {
			a.exec("UPDATE audit_events SET at_ms = at_ms - 86400000 WHERE seq = 13")
		}, 13, "hash does not match the event's contents"},
		{"delete a row", func(a attacker) {
			a.exec("DELETE FROM audit_events WHERE seq = 13")
		}, 13, "the event is missing"},
		{"delete the first row", func(a attacker) {
			a.exec("DELETE FROM audit_events WHERE seq = 1")
		}, 1, "the event is missing"},
		{"delete the last rows", func(a attacker) {
			a.exec("DELETE FROM audit_events WHERE seq >= 48")
		}, 48, "missing"},
		{"swap two rows", func(a attacker) {
			a.exec("UPDATE audit_events SET seq = -1 WHERE seq = 13")
			a.exec("UPDATE audit_events SET seq = 13 WHERE seq = 14")
			a.exec("UPDATE audit_events SET seq = 14 WHERE seq = -1")
		}, 13, "hash does not match the event's contents"},
		{"recompute one hash", func(a attacker) {
			e := a.read(13)
			e.CustomerID = "C000042"
			h, _ := chainHash(e.PrevHash, &e)
			a.exec("UPDATE audit_events SET customer_id = ?, hash = ? WHERE seq = 13", e.CustomerID, h)
		}, 13, "changed and its hash recomputed"},
		{"relink one event", func(a attacker) {
			e := a.read(13)
			e.PrevHash = a.read(11).Hash
			h, _ := chainHash(e.PrevHash, &e)
			a.exec("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = 13", e.PrevHash, h)
		}, 13, "previous hash was changed"},
		{"recompute the first event", func(a attacker) {
			e := a.read(1)
			e.PrevHash = strings.Repeat("1", 64)
			h, _ := chainHash(e.PrevHash, &e)
			a.exec("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = 1", e.PrevHash, h)
		}, 1, "sealed start"},
		{"rehash the rest of the chain", func(a attacker) { a.rehash(13, 50) }, 20, "sealed checkpoint 1"},
		{"rehash after the last checkpoint", func(a attacker) { a.rehash(45, 50) }, 50, "head's seal does not verify"},
		{"forge a checkpoint", func(a attacker) {
			a.exec("UPDATE audit_checkpoints SET hash = ? WHERE n = 2", strings.Repeat("a", 64))
		}, 40, "checkpoint 2's seal does not verify"},
		{"delete a checkpoint", func(a attacker) {
			a.exec("DELETE FROM audit_checkpoints WHERE n = 1")
		}, 1, "checkpoints 1 to 1 are missing"},
		{"delete the last checkpoint", func(a attacker) {
			a.exec("DELETE FROM audit_checkpoints WHERE n = 2")
		}, 50, "names checkpoint 2"},
		{"roll the head back", func(a attacker) {
			e := a.read(47)
			a.exec("DELETE FROM audit_events WHERE seq > 47")
			a.exec("UPDATE audit_head SET seq = 47, hash = ? WHERE id = 1", e.Hash)
		}, 47, "head's seal does not verify"},
		{"mangle stored details", func(a attacker) {
			a.exec("UPDATE audit_events SET details = 'not json' WHERE seq = 13")
		}, 13, "not a JSON object"},
	}
	dialects(t, func(t *testing.T, db *store.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// A fresh chain per case: reset by purging everything is not allowed, so use a
				// new schema-equivalent database for SQLite and reuse PostgreSQL's by truncating.
				tdb := freshDB(t, db)
				tr := mustTrail(t, tdb, Options{CheckpointEvery: 20})
				mustRecord(t, tr, 50)
				if r := mustVerify(t, tr); !r.OK() {
					t.Fatalf("before tampering: %s", r)
				}
				tc.tamper(newAttacker(t, tdb))
				r := mustVerify(t, tr)
				if r.Break == nil {
					t.Fatalf("Verify after %q = %q, want a break at seq %d", tc.name, r, tc.seq)
				}
				if r.Break.Seq != tc.seq || !strings.Contains(r.Break.Problem, tc.problem) {
					t.Fatalf("Verify = %q, want seq %d and %q", r, tc.seq, tc.problem)
				}
			})
		}
	})
}

// freshDB gives each tamper case an empty trail: a new SQLite file, or the PostgreSQL test
// database emptied and its trigger restored.
func freshDB(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	if db.Dialect == store.SQLite {
		return mustSQLite(t)
	}
	for _, q := range []string{
		"TRUNCATE audit_events, audit_checkpoints",
		"UPDATE audit_head SET seq = 0, hash = '" + GenesisHash + "', checkpoint_n = 0, key_id = '', mac = ''",
		"DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events",
		"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_no_update()",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db
}

func TestVerifyWithAnotherKey(t *testing.T) {
	db := mustSQLite(t)
	tr := mustTrail(t, db, Options{CheckpointEvery: 5})
	mustRecord(t, tr, 7)
	other := mustTrail(t, db, Options{})
	r := mustVerify(t, other)
	if r.Break == nil || !strings.Contains(r.Break.Problem, "checkpoint 1's seal does not verify") || r.Break.Seq != 5 {
		t.Fatalf("Verify under another key = %q, want checkpoint 1 at seq 5 failing", r)
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := mustTrail(t, db, Options{})
		mustRecord(t, tr, 1)
		_, err := db.ExecContext(context.Background(), "UPDATE audit_events SET customer_id = 'C1'")
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("UPDATE audit_events = %v, want the append-only trigger to refuse", err)
		}
	})
}
