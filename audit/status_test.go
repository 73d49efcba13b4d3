package audit

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestStatusIsIncrementalBetweenFullChecks: Status reuses a fresh report, then checks only the
// new events, and walks everything again after StatusFullEvery, which is when a change to an
// old event shows.
func TestStatusIsIncrementalBetweenFullChecks(t *testing.T) {
	db := mustSQLite(t)
	clock := &fixedClock{t: time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)}
	tr := mustTrail(t, db, Options{CheckpointEvery: 7, Now: clock.now, StatusMaxAge: time.Minute, StatusFullEvery: time.Hour})
	ctx := context.Background()
	status := func() VerifyReport {
		t.Helper()
		r, err := tr.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	mustRecord(t, tr, 10)
	if r := status(); r.String() != "verified 10 events up to seq 10" || r.FirstSeq != 1 {
		t.Fatalf("first status %q (first seq %d)", r, r.FirstSeq)
	}
	mustRecord(t, tr, 5)
	if r := status(); r.LastSeq != 10 {
		t.Fatalf("a fresh report was not reused: %q", r)
	}
	clock.t = clock.t.Add(2 * time.Minute)
	if r := status(); r.String() != "verified 15 events up to seq 15" || r.FirstSeq != 1 {
		t.Fatalf("incremental status %q (first seq %d)", r, r.FirstSeq)
	}

	// A new event changed after it was written is caught by the incremental check.
	mustRecord(t, tr, 3)
	a := newAttacker(t, db)
	a.exec("UPDATE audit_events SET customer_id = 'C1' WHERE seq = 17")
	clock.t = clock.t.Add(2 * time.Minute)
	if r := status(); r.Break == nil || r.Break.Seq != 17 {
		t.Fatalf("incremental status after tampering with seq 17: %q", r)
	}
	a.exec("UPDATE audit_events SET customer_id = ? WHERE seq = 17", sampleEvent(1).CustomerID)
	clock.t = clock.t.Add(2 * time.Minute)
	if r := status(); !r.OK() {
		t.Fatalf("after restoring seq 17: %q", r)
	}

	// An old event changed after it was verified shows at the next full check.
	a.exec("UPDATE audit_events SET outcome = 'failure' WHERE seq = 3")
	clock.t = clock.t.Add(2 * time.Minute)
	if r := status(); !r.OK() {
		t.Fatalf("the incremental check walked old events: %q", r)
	}
	clock.t = clock.t.Add(time.Hour)
	if r := status(); r.Break == nil || r.Break.Seq != 3 || !strings.Contains(r.Break.Problem, "changed") {
		t.Fatalf("full status after tampering with seq 3: %q", r)
	}
}

func TestStatusAfterPurgeRecounts(t *testing.T) {
	db := mustSQLite(t)
	clock := &fixedClock{t: time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)}
	tr := mustTrail(t, db, Options{Now: clock.now})
	ctx := context.Background()
	mustRecord(t, tr, 8)
	if r, err := tr.Status(ctx); err != nil || r.Events != 8 {
		t.Fatalf("status %q, %v", r, err)
	}
	clock.t = clock.t.Add(time.Hour)
	if _, err := tr.Purge(ctx, clock.t); err != nil {
		t.Fatal(err)
	}
	mustRecord(t, tr, 2)
	clock.t = clock.t.Add(2 * time.Minute)
	if r, err := tr.Status(ctx); err != nil || r.String() != "verified 2 events up to seq 10" {
		t.Fatalf("status after purge %q, %v", r, err)
	}
}
