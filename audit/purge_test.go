package audit

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/store"
)

func TestPurgeKeepsTheRestVerifiable(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := &fixedClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		tr := mustTrail(t, db, Options{CheckpointEvery: 8, Now: clock.now})
		// 30 events a day apart; the retention cut keeps the last 10.
		for i := range 30 {
			clock.t = clock.t.Add(24 * time.Hour)
			if err := tr.Record(ctx, sampleEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		cutoff := time.Date(2025, 1, 21, 0, 0, 0, 0, time.UTC)
		rep, err := tr.Purge(ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Deleted != 19 || rep.PurgedThrough != 19 {
			t.Fatalf("Purge = %+v, want 19 events deleted through seq 19", rep)
		}
		r := mustVerify(t, tr)
		if r.String() != "verified 11 events up to seq 30" || r.PurgedThrough != 19 || r.FirstSeq != 20 {
			t.Fatalf("after purge: %q %+v", r, r)
		}
		// The chain keeps growing from the purged state, and a second purge of nothing is a no-op.
		mustRecord(t, tr, 5)
		if r := mustVerify(t, tr); r.String() != "verified 16 events up to seq 35" {
			t.Fatalf("after more events: %q", r)
		}
		if rep, err := tr.Purge(ctx, cutoff); err != nil || rep.Deleted != 0 {
			t.Fatalf("second purge = %+v, %v; want nothing deleted", rep, err)
		}
	})
}

func TestPurgeEverything(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{CheckpointEvery: 4})
	mustRecord(t, tr, 9)
	rep, err := tr.Purge(context.Background(), time.Now().Add(time.Hour))
	if err != nil || rep.Deleted != 9 {
		t.Fatalf("Purge = %+v, %v", rep, err)
	}
	if r := mustVerify(t, tr); r.String() != "verified 0 events up to seq 9" {
		t.Fatalf("after purging everything: %q", r)
	}
	mustRecord(t, tr, 2)
	if r := mustVerify(t, tr); r.String() != "verified 2 events up to seq 11" {
		t.Fatalf("after purging everything and appending: %q", r)
	}
}

// TestPurgeCannotBeFaked: deleting old events without the key, or deleting the purge
// checkpoint, is reported.
func TestPurgeCannotBeFaked(t *testing.T) {
	db := mustSQLite(t)
	tr := mustTrail(t, db, Options{CheckpointEvery: 100})
	mustRecord(t, tr, 20)
	a := newAttacker(t, db)
	a.exec("DELETE FROM audit_events WHERE seq <= 5")
	r := mustVerify(t, tr)
	if r.Break == nil || r.Break.Seq != 1 {
		t.Fatalf("after deleting the oldest events without a purge: %q, want a break at seq 1", r)
	}

	db2 := mustSQLite(t)
	tr2 := mustTrail(t, db2, Options{CheckpointEvery: 100})
	mustRecord(t, tr2, 20)
	if _, err := tr2.Purge(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, tr2, 3)
	newAttacker(t, db2).exec("DELETE FROM audit_checkpoints")
	r = mustVerify(t, tr2)
	if r.Break == nil || r.Break.Seq != 1 || !strings.Contains(r.Break.Problem, "missing") {
		t.Fatalf("after deleting the purge checkpoint: %q, want a break at seq 1", r)
	}
}

func TestPurgeRefusesABrokenChain(t *testing.T) {
	db := mustSQLite(t)
	tr := mustTrail(t, db, Options{})
	mustRecord(t, tr, 5)
	newAttacker(t, db).exec("UPDATE audit_events SET customer_id = 'C7' WHERE seq = 2")
	_, err := tr.Purge(context.Background(), time.Now().Add(time.Hour))
	if !errors.Is(err, ErrChainBroken) {
		t.Fatalf("Purge of a broken chain = %v, want ErrChainBroken", err)
	}
	if n := mustCount(t, db); n != 5 {
		t.Fatalf("%d events left, want all 5 kept as evidence", n)
	}
}

// TestPurgeWithWitness: the witness takes the purge checkpoint, keeps the records of the
// checkpoints the purge removed, and the purged chain still verifies against it.
func TestPurgeWithWitness(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := &fixedClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		path := filepath.Join(t.TempDir(), "audit-witness.jsonl")
		tr := mustTrail(t, db, Options{CheckpointEvery: 8, Now: clock.now, Witness: mustFileWitness(t, path)})
		for i := range 30 {
			clock.t = clock.t.Add(24 * time.Hour)
			if err := tr.Record(ctx, sampleEvent(i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tr.Purge(ctx, time.Date(2025, 1, 21, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		wl := mustReadWitness(t, path)
		if len(wl.Records) != 4 || wl.Records[3].Kind != kindPurge || wl.Records[3].Seq != 19 {
			t.Fatalf("witness after the purge = %+v, want 3 periodic checkpoints and the purge at seq 19", wl.Records)
		}
		clock.t = clock.t.Add(time.Hour)
		if r := mustVerify(t, tr); r.String() != "verified 11 events up to seq 30, matching 4 witnessed seals" {
			t.Fatalf("after the purge: %q", r)
		}
		// Deleting the purge checkpoint's witness record shows.
		whole := witnessLines(t, path)
		writeWitnessLines(t, path, whole[:3])
		if r := mustVerify(t, tr); r.String() != "broken at seq 19: the witness lacks checkpoint 4 (seq 19), which the database holds: "+
			"records were removed from the witness, or it is not the one this trail writes to" {
			t.Fatalf("without the purge's witness record: %q", r)
		}
		// The purge removed checkpoint 3 from the database although it seals the retained event
		// 24; the witness still vouches for it, so a rewrite of events 20 to 24 is narrowed down
		// to them.
		writeWitnessLines(t, path, whole)
		newAttacker(t, db).rehash(21, 30)
		want := "broken in seq 20 to 24: an event in this stretch was changed and the hashes after it recomputed: " +
			"seq 24 no longer has the hash sealed by checkpoint 3"
		if r := mustVerifyAlone(t, tr); r.String() == want {
			t.Fatalf("the database alone already names the stretch: %q", r)
		}
		if r := mustVerify(t, tr); r.String() != want {
			t.Fatalf("after a rewrite of the retained events:\n got %s\nwant %s", r, want)
		}
	})
}
