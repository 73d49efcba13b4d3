package scan

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Cancel stops a scan part of the way and keeps what it stored; Resume continues it to exact
// totals, each customer once; neither is possible in the wrong state.
func TestCancelAndResume(t *testing.T) {
	const n = 200
	w := newWorld(t, n)
	db := mustStore(t, backends(t)[0].url)
	s := mustScanner(t, db, w, func(o *Options) { o.Rate, o.ChunkSize = 60, 20 })
	ctx := context.Background()
	run, err := s.StartScan(ctx, StartRequest{Trigger: TriggerAnalyst, By: "sub-fraud"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartScan(ctx, StartRequest{Trigger: TriggerAnalyst, By: "sub-other"}); !errors.Is(err, ErrConflict) {
		t.Errorf("a second scan while one runs: %v, want ErrConflict", err)
	}
	waitFor(t, s, run.ID, time.Minute, func(p Progress) bool { return p.Done >= 40 })
	cancelled, err := s.Cancel(ctx, run.ID, "sub-fraud")
	if err != nil || cancelled.State != StateCancelled || cancelled.CancelledBy != "sub-fraud" {
		t.Fatalf("cancel: %+v, %v", cancelled, err)
	}
	// The jobs stop at their next batch; after that nothing more is stored.
	time.Sleep(2 * time.Second)
	before, _ := s.Progress(ctx, run.ID)
	time.Sleep(time.Second)
	after, _ := s.Progress(ctx, run.ID)
	if after.Done != before.Done || after.Done >= n {
		t.Fatalf("after cancelling: %d then %d of %d customers: the scan went on", before.Done, after.Done, n)
	}
	if _, err := s.Cancel(ctx, run.ID, "sub-fraud"); !errors.Is(err, ErrConflict) {
		t.Errorf("cancelling a cancelled scan: %v, want ErrConflict", err)
	}
	resumed, err := s.Resume(ctx, run.ID)
	if err != nil || resumed.State != StateRunning || resumed.Generation != 2 {
		t.Fatalf("resume: %+v, %v", resumed, err)
	}
	if _, err := s.Resume(ctx, run.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("resuming a running scan: %v, want ErrConflict", err)
	}
	p := waitFor(t, s, run.ID, 2*time.Minute, finished)
	var rows int
	if err := db.QueryRow("SELECT count(*) FROM scan_results WHERE scan_id = ?", run.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if p.Done != n || p.Total != n || rows != n || p.Compared+p.NotRegistered != n {
		t.Errorf("after resuming: done %d, total %d, rows %d, compared %d; want %d each", p.Done, p.Total, rows, p.Compared, n)
	}
	if _, err := s.Cancel(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancelling no scan: %v, want ErrNotFound", err)
	}
}

// The schedule's tick starts one scan however often River retries it, and none while a scan
// runs.
func TestScheduledTickStartsOneScan(t *testing.T) {
	w := newWorld(t, 30)
	db := mustStore(t, backends(t)[0].url)
	// At five calls a second the first scan is still running when the second tick comes.
	s := mustScanner(t, db, w, func(o *Options) { o.Rate = 5 })
	ctx := context.Background()
	tick := &scheduledWorker{s: s}
	job := &river.Job[scheduledArgs]{JobRow: &rivertype.JobRow{ID: 41}}
	for range 2 {
		if err := tick.Work(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.Runs(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0].Trigger != TriggerSchedule || runs[0].State != StateRunning {
		t.Fatalf("after a tick worked twice: %+v, %v; want one running scheduled scan", runs, err)
	}
	if err := tick.Work(ctx, &river.Job[scheduledArgs]{JobRow: &rivertype.JobRow{ID: 42}}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Runs(ctx, 10); len(again) != 1 {
		t.Errorf("a tick while a scan runs started another: %d scans", len(again))
	}
	if _, err := s.Cancel(ctx, runs[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
}
