package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ctpdesk/store"
)

// witnessedTrail is a trail whose checkpoints go to a witness file, with a clock the test
// moves past the witness grace before it verifies.
type witnessedTrail struct {
	tr    *Trail
	db    *store.DB
	key   []byte
	path  string
	clock *fixedClock
}

func mustWitnessedTrail(t *testing.T, db *store.DB, key []byte, path string) witnessedTrail {
	t.Helper()
	fw, err := OpenFileWitness(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	clock := &fixedClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	tr := mustTrail(t, db, Options{Key: key, CheckpointEvery: 20, Witness: fw, Now: clock.now})
	return witnessedTrail{tr: tr, db: db, key: key, path: path, clock: clock}
}

// verifyLater verifies once the witness grace has passed, against the trail's witness, and,
// for comparison, on the database alone.
func (w witnessedTrail) verifyLater(t *testing.T) (withWitness, alone string) {
	t.Helper()
	w.clock.t = w.clock.t.Add(2 * witnessGrace)
	alone = mustVerifyAlone(t, w.tr).String()
	return mustVerify(t, w.tr).String(), alone
}

// mustVerifyAlone verifies the database without any witness, as verification did before the
// trail had one.
func mustVerifyAlone(tb testing.TB, tr *Trail) VerifyReport {
	tb.Helper()
	r, _, err := tr.verify(context.Background(), nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// headRow is the chain head row, as a backup of the database holds it.
type headRow struct {
	seq, checkpointN int64
	hash, keyID, mac string
}

func (a attacker) head() headRow {
	a.t.Helper()
	var h headRow
	err := a.db.QueryRow("SELECT seq, hash, checkpoint_n, key_id, mac FROM audit_head WHERE id = 1").
		Scan(&h.seq, &h.hash, &h.checkpointN, &h.keyID, &h.mac)
	if err != nil {
		a.t.Fatal(err)
	}
	return h
}

// restoreHead writes an older head row back, seal and all.
func (a attacker) restoreHead(h headRow) {
	a.exec("UPDATE audit_head SET seq = ?, hash = ?, checkpoint_n = ?, key_id = ?, mac = ? WHERE id = 1",
		h.seq, h.hash, h.checkpointN, h.keyID, h.mac)
}

// forgeEvent appends a well-chained event behind the trail's back: it inserts the row after
// the last one without moving the sealed head (which it cannot reseal).
func (a attacker) forgeEvent(seq int64) {
	a.t.Helper()
	prev := a.read(seq - 1)
	e := sampleEvent(int(seq))
	e.Seq, e.PrevHash, e.Time = seq, prev.Hash, prev.Time
	e.Hash, _ = chainHash(prev.Hash, &e)
	args, err := rowArgs(&e)
	if err != nil {
		a.t.Fatal(err)
	}
	a.exec("INSERT INTO audit_events ("+eventColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
}

// witnessLines reads the witness file as lines; writeWitnessLines writes lines back.
func witnessLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
}

func writeWitnessLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	b := bytes.Join(lines, []byte("\n"))
	if len(lines) > 0 {
		b = append(b, '\n')
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// TestWitnessTamperDetection: each way of shortening, wiping or rewriting the trail, and of
// damaging the witness, is caught when the database is verified against the witness, with a
// message that names what is missing. alone is what the database by itself shows.
func TestWitnessTamperDetection(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(a attacker, old headRow, witness string)
		want   string
		alone  string
	}{
		{"wipe the trail", func(a attacker, _ headRow, _ string) {
			a.exec("DELETE FROM audit_events")
			a.exec("DELETE FROM audit_checkpoints")
			a.exec("UPDATE audit_head SET seq = 0, hash = ?, checkpoint_n = 0, key_id = '', mac = '' WHERE id = 1", GenesisHash)
		},
			"broken at seq 1: the sealed head is at seq 0, behind the last witnessed seal (checkpoint 2 at seq 40): " +
				"witnessed checkpoints 1 to 2 (seq 20 to 40) are not in the database",
			"verified 0 events up to seq 0"},
		{"truncate the end", func(a attacker, _ headRow, _ string) {
			a.exec("DELETE FROM audit_events WHERE seq > 30")
			a.exec("DELETE FROM audit_checkpoints WHERE n > 1")
		},
			"broken at seq 31: events 31 to 50 are missing: the sealed head is at seq 50",
			"broken at seq 31: events 31 to 50 are missing: the sealed head is at seq 50"},
		{"roll back to an old sealed head, deleting later events", func(a attacker, old headRow, _ string) {
			a.exec("DELETE FROM audit_events WHERE seq > ?", old.seq)
			a.exec("DELETE FROM audit_checkpoints WHERE n > ?", old.checkpointN)
			a.restoreHead(old)
		},
			"broken at seq 23: the sealed head is at seq 22, behind the last witnessed seal (checkpoint 2 at seq 40): " +
				"witnessed checkpoint 2 (seq 40) is not in the database",
			"verified 22 events up to seq 22"},
		{"roll back to an old sealed head, keeping later events", func(a attacker, old headRow, _ string) {
			a.exec("DELETE FROM audit_checkpoints WHERE n > ?", old.checkpointN)
			a.restoreHead(old)
		},
			"broken at seq 23: events 23 to 50 are stored after the sealed head at seq 22 without ever being sealed: " +
				"forged, or left behind when an older head was restored",
			"broken at seq 23: events 23 to 50 are stored after the sealed head at seq 22 without ever being sealed: " +
				"forged, or left behind when an older head was restored"},
		{"roll back to an old sealed head, keeping later events and checkpoints", func(a attacker, old headRow, _ string) {
			a.restoreHead(old)
		},
			"broken at seq 22: checkpoint 2 names seq 40 beyond the sealed head",
			"broken at seq 22: checkpoint 2 names seq 40 beyond the sealed head"},
		{"forge a tail", func(a attacker, _ headRow, _ string) {
			a.forgeEvent(51)
			a.forgeEvent(52)
		},
			"broken at seq 51: events 51 to 52 are stored after the sealed head at seq 50 without ever being sealed: " +
				"forged, or left behind when an older head was restored",
			"broken at seq 51: events 51 to 52 are stored after the sealed head at seq 50 without ever being sealed: " +
				"forged, or left behind when an older head was restored"},
		{"edit and rehash", func(a attacker, _ headRow, _ string) { a.rehash(25, 50) },
			"broken in seq 21 to 40: an event in this stretch was changed and the hashes after it recomputed: " +
				"seq 40 no longer has the hash sealed by checkpoint 2",
			"broken in seq 21 to 40: an event in this stretch was changed and the hashes after it recomputed: " +
				"seq 40 no longer has the hash sealed by checkpoint 2"},
		{"delete the witness", func(a attacker, _ headRow, witness string) {
			if err := os.Remove(witness); err != nil {
				a.t.Fatal(err)
			}
		},
			"broken at seq 20: the witness WITNESS does not exist, but the database holds checkpoints 1 to 2 (seq 20 to 40): " +
				"the witness was deleted, or is not the one this trail writes to",
			"verified 50 events up to seq 50"},
		{"empty the witness", func(a attacker, _ headRow, witness string) {
			writeWitnessLines(a.t, witness, nil)
		},
			"broken at seq 20: the witness lacks checkpoints 1 to 2 (seq 20 to 40), which the database holds: " +
				"records were removed from the witness, or it is not the one this trail writes to",
			"verified 50 events up to seq 50"},
		{"truncate the witness", func(a attacker, _ headRow, witness string) {
			lines := witnessLines(a.t, witness)
			writeWitnessLines(a.t, witness, lines[:len(lines)-1])
		},
			"broken at seq 40: the witness lacks checkpoint 2 (seq 40), which the database holds: " +
				"records were removed from the witness, or it is not the one this trail writes to",
			"verified 50 events up to seq 50"},
		{"edit a witnessed hash", func(a attacker, _ headRow, witness string) {
			lines := witnessLines(a.t, witness)
			r, err := parseWitnessLine(lines[0])
			if err != nil {
				a.t.Fatal(err)
			}
			lines[0] = bytes.Replace(lines[0], []byte(r.Hash), bytes.Repeat([]byte("e"), 64), 1)
			writeWitnessLines(a.t, witness, lines)
		},
			"broken at seq 20: witness line 1: the seal of checkpoint 1 does not verify under the configured key: " +
				"the record was forged or altered",
			"verified 50 events up to seq 50"},
		{"remove the first witness record", func(a attacker, _ headRow, witness string) {
			writeWitnessLines(a.t, witness, witnessLines(a.t, witness)[1:])
		},
			"broken at seq 20: the witness lacks checkpoint 1 (seq 20), which the database holds: " +
				"records were removed from the witness, or it is not the one this trail writes to",
			"verified 50 events up to seq 50"},
		{"insert a copy of a witness record", func(a attacker, _ headRow, witness string) {
			lines := witnessLines(a.t, witness)
			writeWitnessLines(a.t, witness, [][]byte{lines[0], lines[0], lines[1]})
		},
			"broken at seq 20: the witness chain is broken at line 2: it does not name the record on line 1 as the one before it, " +
				"so a record was removed, inserted or edited",
			"verified 50 events up to seq 50"},
	}
	dialects(t, func(t *testing.T, db *store.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tdb := freshDB(t, db)
				witness := filepath.Join(t.TempDir(), "audit-witness.jsonl")
				w := mustWitnessedTrail(t, tdb, mustKey(t), witness)
				// A backup taken part-way holds a validly sealed head at seq 22.
				mustRecord(t, w.tr, 22)
				a := newAttacker(t, tdb)
				old := a.head()
				mustRecord(t, w.tr, 28)
				if got, _ := w.verifyLater(t); got != "verified 50 events up to seq 50, matching 2 witnessed seals" {
					t.Fatalf("before tampering: %s", got)
				}
				tc.tamper(a, old, witness)
				got, alone := w.verifyLater(t)
				want := bytes.ReplaceAll([]byte(tc.want), []byte("WITNESS"), []byte(witness))
				if got != string(want) {
					t.Errorf("Verify against the witness after %q:\n got %s\nwant %s", tc.name, got, want)
				}
				if alone != tc.alone {
					t.Errorf("Verify of the database alone after %q:\n got %s\nwant %s", tc.name, alone, tc.alone)
				}
			})
		}
	})
}

// TestRollbackStaysDetectedAsTheTrailGoesOn: after an older head is restored, the trail keeps
// recording (it does not wedge), and once it seals the checkpoint numbers the witness already
// holds again, verification names the disagreement instead of a missing seal.
func TestRollbackStaysDetectedAsTheTrailGoesOn(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		w := mustWitnessedTrail(t, db, mustKey(t), filepath.Join(t.TempDir(), "audit-witness.jsonl"))
		mustRecord(t, w.tr, 22)
		a := newAttacker(t, db)
		old := a.head()
		mustRecord(t, w.tr, 28)
		a.exec("DELETE FROM audit_events WHERE seq > ?", old.seq)
		a.exec("DELETE FROM audit_checkpoints WHERE n > ?", old.checkpointN)
		a.restoreHead(old)
		// The trail goes on with other events than the ones removed.
		for i := range 30 {
			if err := w.tr.Record(context.Background(), sampleEvent(1000+i)); err != nil {
				t.Fatalf("Record %d after the rollback: %v", i, err)
			}
		}
		got, alone := w.verifyLater(t)
		want := "broken at seq 40: the witness holds two different seals for checkpoint 2 (lines 2 and 4): " +
			"the trail was rolled back and that checkpoint sealed again"
		if got != want {
			t.Fatalf("Verify after a rollback and 30 more events:\n got %s\nwant %s", got, want)
		}
		if alone != "verified 52 events up to seq 52" {
			t.Fatalf("the database alone = %q", alone)
		}
		wl := mustReadWitness(t, w.path)
		// Sealing the new checkpoint 2 hands the witness checkpoint 1 again (it does not end
		// with it), then the new 2.
		if len(wl.Records) != 4 || !wl.Records[2].sameSeal(wl.Records[0]) || wl.Records[3].N != 2 || wl.Records[3].Seq != 40 ||
			wl.Records[3].Hash == wl.Records[1].Hash {
			t.Fatalf("the witness should hold checkpoints 1 and 2, then 1 again and the new 2 sealed after the rollback: %+v", wl.Records)
		}
		// A copy of the witness taken before the new seal shows the disagreement with the
		// database.
		wl.Records = wl.Records[:2]
		rep, err := w.tr.VerifyWitnessed(context.Background(), wl)
		if err != nil {
			t.Fatal(err)
		}
		want = fmt.Sprintf("broken at seq 40: checkpoint 2 differs from the witness (line 2): the database seals seq 40 with hash %s…, "+
			"the witness seq 40 with hash %s…", a.read(40).Hash[:12], wl.Records[1].Hash[:12])
		if rep.String() != want {
			t.Fatalf("Verify against the earlier copy:\n got %s\nwant %s", rep, want)
		}
	})
}

// TestForgedTailIsSetAside: rows inserted beyond the sealed head used to make every append
// fail on a UNIQUE constraint (every page answered 503). Now the next append moves them to
// the set-aside tables unchanged and goes on, and verification keeps reporting them.
func TestForgedTailIsSetAside(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		w := mustWitnessedTrail(t, db, mustKey(t), filepath.Join(t.TempDir(), "audit-witness.jsonl"))
		mustRecord(t, w.tr, 50)
		a := newAttacker(t, db)
		a.forgeEvent(51)
		a.forgeEvent(52)
		forged := a.read(51)
		a.exec("INSERT INTO audit_checkpoints ("+checkpointColumns+") VALUES (3, 60, ?, 'periodic', 0, 'k', ?)",
			GenesisHash, GenesisHash)
		// Reaching seq 60 needs checkpoint 3, whose number the forged checkpoint holds too.
		for i := range 10 {
			e := sampleEvent(100 + i)
			if err := w.tr.Record(context.Background(), e); err != nil {
				t.Fatalf("Record %d after the forged tail: %v", i, err)
			}
		}
		if got := a.read(51); got.RequestID != "req-100" || got.Hash == forged.Hash {
			t.Fatalf("seq 51 is %+v, want the trail's own event req-100", got)
		}
		var aside int64
		var hash string
		if err := db.QueryRow("SELECT COUNT(*), MIN(hash) FROM audit_set_aside_events WHERE seq = 51").Scan(&aside, &hash); err != nil {
			t.Fatal(err)
		}
		if aside != 1 || hash != forged.Hash {
			t.Fatalf("set aside %d rows at seq 51 with hash %s, want the forged row %s", aside, hash, forged.Hash)
		}
		got, alone := w.verifyLater(t)
		want := "broken at seq 51: events 51 to 52 were found beyond the sealed head and set aside on 2026-05-04T09:00:00Z: " +
			"never part of the chain, kept for review in audit_set_aside_events"
		if got != want || alone != want {
			t.Fatalf("Verify after setting the forged tail aside:\n got %s\nwant %s\n(the database alone: %s)", got, want, alone)
		}
		// Once an operator has reviewed and removed the set-aside rows, the chain, which never
		// included them, verifies.
		a.exec("DELETE FROM audit_set_aside_events")
		got, _ = w.verifyLater(t)
		want = "broken at seq 60: checkpoint 3 was found beyond the sealed head and set aside on 2026-05-04T09:00:00Z: " +
			"never part of the chain, kept for review in audit_set_aside_checkpoints"
		if got != want {
			t.Fatalf("Verify with the forged checkpoint still set aside:\n got %s\nwant %s", got, want)
		}
		a.exec("DELETE FROM audit_set_aside_checkpoints")
		if got, _ = w.verifyLater(t); got != "verified 60 events up to seq 60, matching 3 witnessed seals" {
			t.Fatalf("Verify after review = %q", got)
		}
	})
}

func TestWitnessStringAndNotes(t *testing.T) {
	w := mustWitnessedTrail(t, mustSQLite(t), mustKey(t), filepath.Join(t.TempDir(), "audit-witness.jsonl"))
	rep := mustVerify(t, w.tr)
	if rep.String() != "verified 0 events up to seq 0, matching 0 witnessed seals" || rep.Witness == nil || len(rep.Witness.Notes) != 0 {
		t.Fatalf("empty trail with an empty witness: %q %+v", rep, rep.Witness)
	}
	missing := filepath.Join(t.TempDir(), "none.jsonl")
	rep, err := w.tr.VerifyWitnessed(context.Background(), mustReadWitness(t, missing))
	if err != nil || !rep.OK() || fmt.Sprint(rep.Witness.Notes) != "[the witness does not exist yet]" {
		t.Fatalf("empty trail against a missing witness: %q %+v %v", rep, rep.Witness, err)
	}
}

func mustReadWitness(t *testing.T, path string) WitnessLog {
	t.Helper()
	wl, err := ReadWitnessFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return wl
}

// TestStatusChecksTheWitness: the auditors' page, which uses Status, shows a wiped trail as
// broken too, also between full walks.
func TestStatusChecksTheWitness(t *testing.T) {
	db := mustSQLite(t)
	w := mustWitnessedTrail(t, db, mustKey(t), filepath.Join(t.TempDir(), "audit-witness.jsonl"))
	mustRecord(t, w.tr, 45)
	w.clock.t = w.clock.t.Add(2 * witnessGrace)
	r, err := w.tr.Status(context.Background())
	if err != nil || r.String() != "verified 45 events up to seq 45, matching 2 witnessed seals" {
		t.Fatalf("Status before = %q, %v", r, err)
	}
	a := newAttacker(t, db)
	a.exec("DELETE FROM audit_events")
	a.exec("DELETE FROM audit_checkpoints")
	a.exec("UPDATE audit_head SET seq = 0, hash = ?, checkpoint_n = 0, key_id = '', mac = '' WHERE id = 1", GenesisHash)
	w.clock.t = w.clock.t.Add(2 * time.Minute)
	r, err = w.tr.Status(context.Background())
	want := "broken at seq 1: the sealed head is at seq 0, behind the last witnessed seal (checkpoint 2 at seq 40): " +
		"witnessed checkpoints 1 to 2 (seq 20 to 40) are not in the database"
	if err != nil || r.String() != want {
		t.Fatalf("Status after a wipe = %q, %v; want %q", r, err, want)
	}
}
