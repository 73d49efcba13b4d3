package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/dbfault"
	"ctpdesk/store"

	"github.com/google/go-cmp/cmp"
)

func TestNewRejectsBadOptions(t *testing.T) {
	db := mustSQLite(t)
	if _, err := New(db, Options{Key: make([]byte, 16)}); err == nil {
		t.Error("New accepted a 16-byte key")
	}
	if _, err := New(nil, Options{Key: mustKey(t)}); err == nil {
		t.Error("New accepted a nil database")
	}
	if _, err := New(db, Options{Key: mustKey(t), QueueSize: -1}); err == nil {
		t.Error("New accepted a negative queue size")
	}
}

func TestRecordThenVerify(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := mustTrail(t, db, Options{CheckpointEvery: 10})
		mustRecord(t, tr, 25)
		r := mustVerify(t, tr)
		if got, want := r.String(), "verified 25 events up to seq 25"; got != want {
			t.Fatalf("Verify = %q, want %q", got, want)
		}
		if r.Checkpoints != 2 {
			t.Errorf("Checkpoints = %d, want 2 (at seq 10 and 20)", r.Checkpoints)
		}
	})
}

func TestEmptyChainVerifies(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	if got, want := mustVerify(t, tr).String(), "verified 0 events up to seq 0"; got != want {
		t.Fatalf("Verify = %q, want %q", got, want)
	}
}

func TestAppendReturnsStoredEvent(t *testing.T) {
	db := mustSQLite(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600))
	tr := mustTrail(t, db, Options{})
	e := sampleEvent(1)
	e.Time = at
	e.Actor.Roles = []string{"fraud", "agent"}
	got, err := tr.Append(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	page, err := tr.Query(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 {
		t.Fatalf("Query returned %d events, want 1", len(page.Events))
	}
	if diff := cmp.Diff(got, page.Events[0]); diff != "" {
		t.Errorf("stored event differs from Append's (-append +stored):\n%s", diff)
	}
	want := e
	want.Seq, want.PrevHash, want.Hash = 1, GenesisHash, got.Hash
	want.Time = time.Date(2026, 3, 1, 11, 0, 0, 123000000, time.UTC)
	want.Actor.Roles = []string{"agent", "fraud"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Append (-want +got):\n%s", diff)
	}
}

// TestConcurrentRecord checks group commit: many goroutines, one line of consecutive seqs,
// every caller's event stored exactly once.
func TestConcurrentRecord(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := mustTrail(t, db, Options{CheckpointEvery: 50, MaxBatch: 64})
		const writers, each = 50, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					e := sampleEvent(w*each + i)
					if err := tr.Record(context.Background(), e); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := mustCount(t, db); n != writers*each {
			t.Fatalf("stored %d events, want %d", n, writers*each)
		}
		var distinct int64
		if err := db.QueryRow("SELECT COUNT(DISTINCT request_id) FROM audit_events").Scan(&distinct); err != nil {
			t.Fatal(err)
		}
		if distinct != writers*each {
			t.Fatalf("%d distinct request ids, want %d", distinct, writers*each)
		}
		want := fmt.Sprintf("verified %d events up to seq %d", writers*each, writers*each)
		if got := mustVerify(t, tr).String(); got != want {
			t.Fatalf("Verify = %q, want %q", got, want)
		}
	})
}

// TestTwoTrailsOneDatabase models two replicas in one test: two trails on two connection
// pools append to the same database concurrently, and the chain stays one line.
func TestTwoTrailsOneDatabase(t *testing.T) {
	twoPools(t, twoTrails)
}

func twoTrails(t *testing.T, a, b *store.DB) {
	key := mustKey(t)
	ta := mustTrail(t, a, Options{Key: key, CheckpointEvery: 25})
	tb := mustTrail(t, b, Options{Key: key, CheckpointEvery: 25})
	const writers, each = 16, 25
	var wg sync.WaitGroup
	var failed sync.Once
	for w := range writers {
		tr := ta
		if w%2 == 1 {
			tr = tb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := tr.Record(context.Background(), sampleEvent(w*each+i)); err != nil {
					failed.Do(func() { t.Error(err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := mustCount(t, a); n != writers*each {
		t.Fatalf("stored %d events, want %d", n, writers*each)
	}
	want := fmt.Sprintf("verified %d events up to seq %d", writers*each, writers*each)
	if got := mustVerify(t, ta).String(); got != want {
		t.Fatalf("Verify = %q, want %q", got, want)
	}
}

func TestCloseDrainsQueue(t *testing.T) {
	db := mustSQLite(t)
	tr, err := New(db, Options{Key: mustKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- tr.Record(context.Background(), sampleEvent(i))
		}()
	}
	// Close while callers are still queueing: each caller either got its event committed or
	// was told the trail is closed, never silence.
	time.Sleep(time.Millisecond)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(results)
	var ok int64
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrUnavailable):
			t.Errorf("Record after Close: %v, want ErrUnavailable", err)
		}
	}
	if got := mustCount(t, db); got != ok {
		t.Fatalf("%d events stored, %d callers told success", got, ok)
	}
	if err := tr.Record(context.Background(), sampleEvent(0)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Record on a closed trail = %v, want ErrUnavailable", err)
	}
}

func TestRecordHonoursCancelledContext(t *testing.T) {
	db := mustSQLite(t)
	tr := mustTrail(t, db, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Record(ctx, sampleEvent(0)); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Record with a cancelled context = %v, want ErrUnavailable and context.Canceled", err)
	}
	if n := mustCount(t, db); n != 0 {
		t.Fatalf("%d events stored for a caller that had already gone", n)
	}
}

// TestFailClosed: when the database is gone, Record reports ErrUnavailable instead of
// pretending the event was stored.
func TestFailClosed(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := mustTrail(t, db, Options{CommitTimeout: 2 * time.Second})
		mustRecord(t, tr, 3)
		db.Close()
		err := tr.Record(context.Background(), sampleEvent(4))
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Record with the database closed = %v, want ErrUnavailable", err)
		}
	})
}

func TestRecordRejectsInvalidEvents(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	bad := map[string]func(*Event){
		"unknown action":  func(e *Event) { e.Action = "customer.delete" },
		"unknown outcome": func(e *Event) { e.Outcome = "maybe" },
		"no subject":      func(e *Event) { e.Actor.Subject = "" },
		"bad details key": func(e *Event) { e.Details = map[string]string{"jane@example.test": "x"} },
		"reserved key":    func(e *Event) { e.Details = map[string]string{RedactedKeysDetail: "x"} },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			e := sampleEvent(1)
			mutate(&e)
			if err := tr.Record(context.Background(), e); !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Record = %v, want ErrInvalidEvent", err)
			}
		})
	}
	e := sampleEvent(1)
	e.Action, e.Actor = ActionLoginFailed, Actor{}
	if err := tr.Record(context.Background(), e); err != nil {
		t.Fatalf("a failed login without a subject must be recordable: %v", err)
	}
}

// Begin hands the event to the writer and returns before it is committed: with the database
// locked by another process the event is not stored, yet Begin has returned, and Wait blocks
// until the lock goes and the event is durable. A refused event settles as Record's error, and
// a receipt answers the same thing every time it is asked.
func TestBeginReturnsBeforeTheCommitAndWaitAfterIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctpdesk.db")
	db := mustOpen(t, "sqlite:"+path)
	tr := mustTrail(t, db, Options{})
	mustRecord(t, tr, 1)
	release := dbfault.LockSQLite(t, path)
	rec := tr.Begin(context.Background(), sampleEvent(1))
	waited := make(chan error, 1)
	go func() { waited <- rec.Wait() }()
	select {
	case err := <-waited:
		t.Fatalf("Wait returned (%v) while the database was locked", err)
	case <-time.After(200 * time.Millisecond):
	}
	if n := mustCount(t, db); n != 1 {
		t.Fatalf("%d events stored while the database was locked, want 1", n)
	}
	release()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("Wait after the lock went: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Wait did not return after the lock went")
	}
	if n := mustCount(t, db); n != 2 {
		t.Fatalf("%d events stored after Wait, want 2", n)
	}
	if err := rec.Wait(); err != nil {
		t.Fatalf("second Wait = %v, want the first answer (nil)", err)
	}

	bad := sampleEvent(2)
	bad.Action = "customer.delete"
	refused := tr.Begin(context.Background(), bad)
	for range 2 {
		if err := refused.Wait(); !errors.Is(err, ErrInvalidEvent) {
			t.Fatalf("Wait for an invalid event = %v, want ErrInvalidEvent", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.Begin(ctx, sampleEvent(3)).Wait(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Wait with a cancelled context = %v, want ErrUnavailable", err)
	}
	if n := mustCount(t, db); n != 2 {
		t.Fatalf("%d events stored, want 2: the invalid and the abandoned events are not", n)
	}
}
