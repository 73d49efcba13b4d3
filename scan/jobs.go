package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
	"ctpdesk/store"

	"github.com/riverqueue/river"
)

// planArgs plans one generation of a scan: it walks the portfolio into chunks and queues a
// job per chunk. A resumed scan is a new generation, so its jobs are new jobs.
type planArgs struct {
	ScanID     int64 `json:"scan_id"`
	Generation int   `json:"generation"`
}

func (planArgs) Kind() string { return "ctpdesk_scan_plan" }

func (planArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// chunkArgs scans the customers after After up to Last. Unique by its arguments, so planning
// again after a crash queues no chunk twice.
type chunkArgs struct {
	ScanID     int64  `json:"scan_id"`
	Generation int    `json:"generation"`
	Chunk      int    `json:"chunk"`
	After      string `json:"after"`
	Last       string `json:"last"`
}

func (chunkArgs) Kind() string { return "ctpdesk_scan_chunk" }

func (chunkArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// scheduledArgs is the schedule's tick: start a scan unless one runs.
type scheduledArgs struct{}

func (scheduledArgs) Kind() string { return "ctpdesk_scan_scheduled" }

func (scheduledArgs) InsertOpts() river.InsertOpts {
	// One tick per minute at most, whichever leader enqueues it.
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// scheduledWorker starts the scheduled scan.
type scheduledWorker struct {
	river.WorkerDefaults[scheduledArgs]
	s *Scanner
}

func (w *scheduledWorker) Work(ctx context.Context, job *river.Job[scheduledArgs]) error {
	// The job's id makes the start idempotent: a retry of this tick finds its scan.
	_, err := w.s.start(ctx, TriggerSchedule, "system", "Schedule", issuerdb.WalkFilter{}, "river-job:"+strconv.FormatInt(job.ID, 10))
	if errors.Is(err, ErrConflict) {
		w.s.log.Info("scheduled scan skipped: a scan is still running")
		return nil
	}
	return err
}

// planWorker plans a scan.
type planWorker struct {
	river.WorkerDefaults[planArgs]
	s *Scanner
}

// planQueueBatch is how many chunk jobs planning queues at once.
const planQueueBatch = 100

func (w *planWorker) Work(ctx context.Context, job *river.Job[planArgs]) error {
	s := w.s
	run, ok, err := s.current(ctx, job.Args.ScanID, job.Args.Generation)
	if !ok {
		return err
	}
	// Chunks planned before (by an earlier generation, or by this one before a crash) get
	// their job for this generation; those done stay done.
	chunks, err := s.chunks(ctx, run.ID)
	if err != nil {
		return err
	}
	var pending []river.JobArgs
	after, next := "", 0
	for _, c := range chunks {
		if !c.Done {
			pending = append(pending, chunkArgs{ScanID: run.ID, Generation: run.Generation, Chunk: c.Chunk, After: c.After, Last: c.Last})
		}
		after, next = c.Last, c.Chunk+1
	}
	if !run.Planned {
		for {
			if len(pending) >= planQueueBatch {
				if err := s.queue.insertMany(ctx, pending); err != nil {
					return err
				}
				pending = pending[:0]
			}
			ids, err := s.portfolio.CustomerIDsAfter(ctx, after, s.chunkSize, run.Filter)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				break
			}
			c := chunkRef{Chunk: next, After: after, Last: ids[len(ids)-1], Customers: len(ids)}
			if err := s.addChunk(ctx, run.ID, c); err != nil {
				return err
			}
			pending = append(pending, chunkArgs{ScanID: run.ID, Generation: run.Generation, Chunk: c.Chunk, After: c.After, Last: c.Last})
			after, next = c.Last, next+1
		}
	}
	if err := s.queue.insertMany(ctx, pending); err != nil {
		return err
	}
	if err := s.markPlanned(ctx, run.ID); err != nil {
		return err
	}
	return s.finishIfDoneAndTell(ctx, run.ID)
}

// chunkWorker scans one chunk.
type chunkWorker struct {
	river.WorkerDefaults[chunkArgs]
	s *Scanner
}

// cancelCheckEvery is how many customers a chunk job scans between looks at the scan's state.
const cancelCheckEvery = 50

func (w *chunkWorker) Work(ctx context.Context, job *river.Job[chunkArgs]) error {
	s := w.s
	a := job.Args
	run, ok, err := s.current(ctx, a.ScanID, a.Generation)
	if !ok {
		return err
	}
	t := time.Now()
	customers, err := s.portfolio.CustomersBetween(ctx, a.After, a.Last, run.Filter)
	if err != nil {
		return err
	}
	t = s.clock.since(stIssuer, t)
	stored, err := s.storedCustomers(ctx, run.ID, a.Chunk)
	if err != nil {
		return err
	}
	s.clock.since(stStore, t)
	deadline := time.Now().Add(s.jobTimeout)
	s.readyD1(ctx)
	var batch []customerResult
	calls := 0
	flush := func(final bool) error {
		// What was learnt is stored even when the job is being stopped.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		defer s.clock.since(stStore, time.Now())
		err := s.writeBatch(fctx, run, a.Chunk, batch, calls, final)
		batch, calls = batch[:0], 0
		return err
	}
	for i, c := range customers {
		if stored[c.ID] {
			continue
		}
		if i%cancelCheckEvery == cancelCheckEvery-1 {
			if cur, err := s.Run(ctx, run.ID); err == nil && (cur.State != StateRunning || cur.Generation != run.Generation) {
				return flush(false)
			}
		}
		if time.Now().After(deadline) {
			// Long enough for one run: store, and continue in a fresh one.
			if err := flush(false); err != nil {
				return err
			}
			return river.JobSnooze(0)
		}
		t := time.Now()
		if err := s.limiter.wait(ctx); err != nil {
			return w.stop(ctx, err, flush)
		}
		t = s.clock.since(stWait, t)
		// Fresh: the scan reports D1 as it is now, not a person's answer from a minute ago;
		// the call is still coalesced with a person's fresh call for the same consumer.
		res, ferr := s.d1.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{Fresh: true, RequestID: fmt.Sprintf("scan-%d-%d", run.ID, a.Chunk)})
		calls++
		t = s.clock.since(stD1, t)
		if ctx.Err() != nil {
			return w.stop(ctx, ctx.Err(), flush)
		}
		if backOffClass(ferr) {
			wait, err := s.limiter.backOff(ctx, d1.ClassOf(ferr))
			if err != nil {
				return errors.Join(err, flush(false))
			}
			s.log.Warn("scan backing off", slog.String("class", d1.ClassOf(ferr)), slog.Duration("for", wait))
			if err := flush(false); err != nil {
				return err
			}
			return river.JobSnooze(wait)
		}
		now := s.now()
		o := compare(c, res, ferr, reconcile.Options{Now: now}, s.fp)
		batch = append(batch, customerResult{CustomerID: c.ID, Outcome: o, Digest: s.fp.digest(o), At: now})
		s.clock.since(stCompare, t)
		s.clock.customers.Add(1)
		if len(batch) >= batchSize {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	return s.finishIfDoneAndTell(ctx, run.ID)
}

// stop ends a chunk run early: it stores what it has, then snoozes through a scan-wide backoff
// or returns the context's error on shutdown (River retries the job).
func (w *chunkWorker) stop(ctx context.Context, cause error, flush func(bool) error) error {
	if err := flush(false); err != nil {
		return errors.Join(cause, err)
	}
	var b *backingOff
	if errors.As(cause, &b) {
		return river.JobSnooze(max(time.Until(b.until), time.Second))
	}
	if ctx.Err() != nil {
		// Shutting down: run again as soon as a worker is free, without using up an attempt.
		return river.JobSnooze(0)
	}
	return cause
}

// current reads the scan a job works for; ok is false when the job has nothing to do: the scan
// was cancelled or resumed as a newer generation (err nil: the job completes), or it no longer
// exists (the job is cancelled), or it could not be read (River retries).
func (s *Scanner) current(ctx context.Context, id int64, generation int) (Run, bool, error) {
	run, err := s.Run(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Run{}, false, river.JobCancel(err)
	case err != nil:
		return Run{}, false, err
	case run.State != StateRunning || run.Generation != generation:
		return Run{}, false, nil
	}
	return run, true, nil
}

// finishIfDoneAndTell finishes the scan when its last chunk is done, and tells OnFinish.
func (s *Scanner) finishIfDoneAndTell(ctx context.Context, scanID int64) error {
	done, err := s.finishIfDone(ctx, scanID)
	if err != nil || !done {
		return err
	}
	p, err := s.Progress(ctx, scanID)
	if err != nil {
		return err
	}
	s.log.Info("scan finished", slog.Int64("scan", scanID), slog.Int("customers", p.Done))
	s.onFinish(ctx, p)
	if err := s.pruneResults(ctx); err != nil {
		// The scan is finished and counted; old rows wait for the next scan's pruning.
		s.log.Warn("scan: pruning old results failed", slog.String("error", err.Error()))
	}
	if err := s.refreshPlannerStats(ctx); err != nil {
		// The worklist stays right; its filters may be slow until autovacuum analyzes.
		s.log.Warn("scan: refreshing the planner's statistics failed", slog.String("error", err.Error()))
	}
	return nil
}

// refreshPlannerStats has PostgreSQL sample the tables a scan rewrites, once the scan is over.
// Its planner picks each worklist filter's index from the number of rows it expects the filter
// to keep; with statistics from before the scan (an empty worklist, say) it expects a handful,
// reads every item and sorts them instead (44 ms a page at 200,000 items, 1.2 ms with fresh
// statistics). Autovacuum would get there too, a minute or more later and only once a tenth of
// a table has changed. SQLite keeps no statistics here: its plans are fixed by the indexes.
func (s *Scanner) refreshPlannerStats(ctx context.Context) error {
	if s.db.Dialect != store.Postgres {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE worklist_items, scan_customers, scan_results"); err != nil {
		return fmt.Errorf("scan: analyze: %w", err)
	}
	return nil
}

// keptScans is how many finished scans keep their per-customer rows. Their counts, the
// customers' latest digests and the worklist do not depend on the rows, so older scans keep
// their summary without a million rows each.
const keptScans = 3

// pruneResults deletes the per-customer rows of finished scans older than the last keptScans.
// Cancelled scans keep theirs: they may be resumed.
func (s *Scanner) pruneResults(ctx context.Context) error {
	var oldest int64
	err := s.db.QueryRowContext(ctx, s.db.Rebind(`SELECT coalesce(min(id), 0) FROM
		(SELECT id FROM scans WHERE state = ? ORDER BY id DESC LIMIT ?) AS kept`), StateFinished, keptScans).Scan(&oldest)
	if err != nil || oldest == 0 {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM scan_results WHERE scan_id < ?
		AND scan_id IN (SELECT id FROM scans WHERE state = ?)`), oldest, StateFinished)
	if err != nil {
		return fmt.Errorf("scan: prune results: %w", err)
	}
	return nil
}

// storedCustomers lists the customers of a chunk this scan has already stored.
func (s *Scanner) storedCustomers(ctx context.Context, scanID int64, chunk int) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT customer_id FROM scan_results WHERE scan_id = ? AND chunk = ?"), scanID, chunk)
	if err != nil {
		return nil, fmt.Errorf("scan: stored customers: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan: stored customers: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// readier is a Fetcher that can get ready for calls ahead of them; *d1.Client can (it fetches
// its access token).
type readier interface {
	Ready(ctx context.Context) error
}

// readyD1 has the D1 client fetch what its calls need before the chunk takes rate slots, so a
// released call leaves within its slot's second instead of after a token request. A failure
// is left to the calls, which classify it and back off; it costs one attempt per chunk.
func (s *Scanner) readyD1(ctx context.Context) {
	if r, ok := s.d1.(readier); ok {
		_ = r.Ready(ctx)
	}
}
