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
		name   string
		tamper func(a attacker)
		want   string
	}{
		{"change a field", func(a attacker) {
			a.exec("UPDATE audit_events SET customer_id = 'C000042' WHERE seq = 13")
		}, "broken at seq 13: the hash does not match the event's contents: the event was changed after it was written"},
		{"change a detail", func(a attacker) {
			a.exec(`UPDATE audit_events SET details = '{"n":"12","view":"full"}' WHERE seq = 13`)
		}, "broken at seq 13: the hash does not match the event's contents: the event was changed after it was written"},
		{"change the time", func(a attacker) {
			a.exec("UPDATE audit_events SET at_ms = at_ms - 86400000 WHERE seq = 13")
		}, "broken at seq 13: the hash does not match the event's contents: the event was changed after it was written"},
		{"delete a row", func(a attacker) {
			a.exec("DELETE FROM audit_events WHERE seq = 13")
		}, "broken at seq 13: the event is missing (the next stored event is seq 14)"},
		{"delete the first row", func(a attacker) {
			a.exec("DELETE FROM audit_events WHERE seq = 1")
		}, "broken at seq 1: the event is missing (the next stored event is seq 2)"},
		{"delete the last rows", func(a attacker) {
			a.exec("DELETE FROM audit_events WHERE seq >= 48")
		}, "broken at seq 48: events 48 to 50 are missing: the sealed head is at seq 50"},
		{"swap two rows", func(a attacker) {
			a.exec("UPDATE audit_events SET seq = -1 WHERE seq = 13")
			a.exec("UPDATE audit_events SET seq = 13 WHERE seq = 14")
			a.exec("UPDATE audit_events SET seq = 14 WHERE seq = -1")
		}, "broken at seq 13: the hash does not match the event's contents: the event was changed after it was written"},
		{"recompute one hash", func(a attacker) {
			e := a.read(13)
			e.CustomerID = "C000042"
			h, _ := chainHash(e.PrevHash, &e)
			a.exec("UPDATE audit_events SET customer_id = ?, hash = ? WHERE seq = 13", e.CustomerID, h)
		}, "broken at seq 13: the event was changed and its hash recomputed: seq 14 chains to a different hash"},
		{"relink one event", func(a attacker) {
			e := a.read(13)
			e.PrevHash = a.read(11).Hash
			h, _ := chainHash(e.PrevHash, &e)
			a.exec("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = 13", e.PrevHash, h)
		}, "broken at seq 13: the previous hash was changed and the hash recomputed: it does not chain to seq 12"},
		{"recompute the first event", func(a attacker) {
			e := a.read(1)
			e.PrevHash = strings.Repeat("1", 64)
			h, _ := chainHash(e.PrevHash, &e)
			a.exec("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = 1", e.PrevHash, h)
		}, "broken at seq 1: the previous hash does not match the sealed start of the chain: the event was rewritten and rehashed"},
		{"rehash the rest of the chain", func(a attacker) { a.rehash(13, 50) },
			"broken in seq 1 to 20: an event in this stretch was changed and the hashes after it recomputed: seq 20 no longer has the hash sealed by checkpoint 1"},
		{"rehash after the last checkpoint", func(a attacker) { a.rehash(45, 50) },
			"broken in seq 41 to 50: the chain head's seal does not verify: the head was rewritten without the key, so nothing proves the events after the last sealed checkpoint"},
		{"forge a checkpoint", func(a attacker) {
			a.exec("UPDATE audit_checkpoints SET hash = ? WHERE n = 2", strings.Repeat("a", 64))
		}, "broken at seq 40: checkpoint 2's seal does not verify: it was forged or altered"},
		{"delete a checkpoint", func(a attacker) {
			a.exec("DELETE FROM audit_checkpoints WHERE n = 1")
		}, "broken at seq 1: checkpoint 1 is missing and no purge checkpoint marks a new start"},
		{"delete the last checkpoint", func(a attacker) {
			a.exec("DELETE FROM audit_checkpoints WHERE n = 2")
		}, "broken at seq 50: the sealed head names checkpoint 2 but the last stored checkpoint is 1"},
		{"roll the head back", func(a attacker) {
			e := a.read(47)
			a.exec("DELETE FROM audit_events WHERE seq > 47")
			a.exec("UPDATE audit_head SET seq = 47, hash = ? WHERE id = 1", e.Hash)
		}, "broken in seq 41 to 47: the chain head's seal does not verify: the head was rewritten without the key, so nothing proves the events after the last sealed checkpoint"},
		{"mangle stored details", func(a attacker) {
			a.exec("UPDATE audit_events SET details = 'not json' WHERE seq = 13")
		}, "broken at seq 13: stored details are not a JSON object of strings"},
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
				if got := mustVerify(t, tr).String(); got != tc.want {
					t.Fatalf("Verify after %q:\n got %s\nwant %s", tc.name, got, tc.want)
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
		"TRUNCATE audit_events, audit_checkpoints, audit_set_aside_events, audit_set_aside_checkpoints",
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
