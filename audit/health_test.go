package audit

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/dbfault"
	"ctpdesk/store"
)

// hangGuard only catches a wait without bound; speed itself is not asserted.
const hangGuard = 5 * time.Second

// recordingMetrics keeps every commit observation.
type recordingMetrics struct {
	mu      sync.Mutex
	batches []int
	took    []time.Duration
	errs    []error
}

func (m *recordingMetrics) ObserveAuditCommit(batch int, d time.Duration, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, batch)
	m.took = append(m.took, d)
	m.errs = append(m.errs, err)
}

func (m *recordingMetrics) snapshot() ([]int, []time.Duration, []error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.batches...), append([]time.Duration(nil), m.took...), append([]error(nil), m.errs...)
}

// dbFaults are the ways the dashboard database stops taking writes, on SQLite.
var dbFaults = map[string]func(t *testing.T, db *store.DB, path string){
	"locked":    func(t *testing.T, _ *store.DB, path string) { dbfault.LockSQLite(t, path) },
	"read-only": func(t *testing.T, db *store.DB, _ string) { dbfault.ReadOnlySQLite(t, db.DB) },
	"full":      func(t *testing.T, db *store.DB, _ string) { dbfault.FullSQLite(t, db.DB) },
}

// recordUntilRefused records events until one is refused, as traffic on a database that
// filled up would: a write that still fits in a page goes through.
func recordUntilRefused(t *testing.T, tr *Trail) (time.Duration, error) {
	t.Helper()
	for i := range 500 {
		start := time.Now()
		if err := tr.Record(context.Background(), sampleEvent(i)); err != nil {
			return time.Since(start), err
		}
	}
	t.Fatal("500 events were committed to a database that should refuse writes")
	return 0, nil
}

// With the database locked, read-only or full, Record is refused with ErrUnavailable within
// its own bound although the caller set no deadline; Ready fails; the failure is observed.
// Once the database takes writes again, Ready passes.
func TestRecordAndReadyWhenTheDatabaseFails(t *testing.T) {
	for name, breakDB := range dbFaults {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ctpdesk.db")
			db := mustOpen(t, "sqlite:"+path)
			m := &recordingMetrics{}
			clock := &fixedClock{t: time.Now()}
			tr := mustTrail(t, db, Options{Metrics: m, Now: clock.now, RecordTimeout: DefaultRecordTimeout})
			mustRecord(t, tr, 3)
			if err := tr.Ready(context.Background()); err != nil {
				t.Fatalf("Ready on a healthy database: %v", err)
			}
			breakDB(t, db, path)
			took, err := recordUntilRefused(t, tr)
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Record: %v, want ErrUnavailable", err)
			}
			if took > hangGuard {
				t.Errorf("Record was refused only after %s", took)
			}
			t.Logf("%s: refused after %s: %v", name, took, err)
			start := time.Now()
			if err := tr.Ready(context.Background()); err == nil {
				t.Error("Ready passes while commits fail")
			}
			if took := time.Since(start); took > hangGuard {
				t.Errorf("Ready answered after %s", took)
			}
			// The refused commit is observed when it ends, which on a busy machine may be after
			// its caller stopped waiting: wait for the observation, not for a fixed time.
			var errs []error
			for deadline := time.Now().Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
				_, _, errs = m.snapshot()
				if slices.ContainsFunc(errs, func(e error) bool { return e != nil }) || time.Now().After(deadline) {
					break
				}
			}
			if !slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
				t.Errorf("the failed commit was not observed: %v", errs)
			}
		})
	}
}

// The trial append of Ready sees a database that stopped taking writes before any request
// failed on it, and lets the replica back in once the database recovers and the last failure
// is older than failureHold.
func TestReadyTriesAnAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctpdesk.db")
	db := mustOpen(t, "sqlite:"+path)
	clock := &fixedClock{t: time.Now()}
	tr := mustTrail(t, db, Options{Now: clock.now})
	mustRecord(t, tr, 2)
	restore := dbfault.ReadOnlySQLite(t, db.DB)
	if err := tr.Ready(context.Background()); !errors.Is(err, ErrUnavailable) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Ready on a read-only database: %v, want ErrUnavailable", err)
	}
	if err := tr.Record(context.Background(), sampleEvent(9)); err == nil {
		t.Fatal("Record on a read-only database succeeded")
	}
	restore()
	if err := tr.Ready(context.Background()); err == nil {
		t.Error("Ready passes right after a failed commit")
	}
	clock.t = clock.t.Add(failureHold + time.Second)
	if err := tr.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after the database recovered: %v", err)
	}
	if n := mustCount(t, db); n != 2 {
		t.Errorf("%d events stored, want 2: the trial append must leave nothing behind", n)
	}
	if r := mustVerify(t, tr); !r.OK() {
		t.Errorf("the chain does not verify after trial appends: %+v", r)
	}
}

// Every commit is observed with its batch size and duration; the sizes add up to the events.
func TestCommitsAreObserved(t *testing.T) {
	m := &recordingMetrics{}
	tr := mustTrail(t, mustSQLite(t), Options{Metrics: m})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if err := tr.Record(context.Background(), sampleEvent(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	batches, took, errs := m.snapshot()
	total := 0
	for i, b := range batches {
		total += b
		if b < 1 || took[i] <= 0 || errs[i] != nil {
			t.Errorf("commit %d observed as batch %d, %s, %v", i, b, took[i], errs[i])
		}
	}
	if total != 40 {
		t.Errorf("observed batches hold %d events, want 40", total)
	}
}

// On PostgreSQL a database switched to read-only transactions refuses Record and fails Ready.
func TestRecordAndReadyOnReadOnlyPostgres(t *testing.T) {
	db := mustPostgres(t)
	tr := mustTrail(t, db, Options{RecordTimeout: DefaultRecordTimeout})
	mustRecord(t, tr, 2)
	dbfault.ReadOnlyPostgres(t, db.DB)
	if err := tr.Record(context.Background(), sampleEvent(5)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Record on a read-only database: %v, want ErrUnavailable", err)
	}
	if err := tr.Ready(context.Background()); err == nil {
		t.Error("Ready passes on a read-only database")
	}
}
