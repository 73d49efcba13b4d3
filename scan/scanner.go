// Package scan runs the portfolio drift scan: reconcile.Compare for every customer with a D1
// consumer id, in River jobs on the dashboard's database, within one D1 call rate for the whole
// deployment, nightly or on demand. It stores per customer what the comparison found (states,
// counts, finding kinds, keyed fingerprints; never a value) and keeps the worklist of findings
// people decide on.
package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/store"
)

// Portfolio is the issuer's records as the scan walks them; *issuerdb.DB implements it.
type Portfolio interface {
	CustomerIDsAfter(ctx context.Context, after string, limit int, f issuerdb.WalkFilter) ([]string, error)
	CustomersBetween(ctx context.Context, after, last string, f issuerdb.WalkFilter) ([]issuerdb.Customer, error)
}

// Fetcher is the D1 client as the scan uses it: token reuse, retries, breaker and coalescing
// are the client's; *d1.Client implements it.
type Fetcher interface {
	GetProfiles(ctx context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error)
}

// Options configure a Scanner.
type Options struct {
	DB        *store.DB
	Portfolio Portfolio
	D1        Fetcher
	// Key keys the fingerprints (at least MinKeyLen bytes).
	Key []byte
	// Rate is the deployment's D1 calls a second for the scan; 0 lifts the cap.
	Rate float64
	// Schedule starts scans by itself (config.ParseSchedule reads one); nil means only on
	// demand.
	Schedule interface{ Next(time.Time) time.Time }
	// Workers is how many scan jobs this replica works at once (default 4).
	Workers int
	// ChunkSize is how many customers one job covers (default 250).
	ChunkSize int
	// JobTimeout bounds one run of a job (default 10 min): a chunk job stores what it has and
	// continues in a fresh run.
	JobTimeout time.Duration
	// OnFinish is called once when a scan finishes, with its summary (the app records it in
	// the audit trail).
	OnFinish func(ctx context.Context, p Progress)
	// Logger, Now: defaults are quiet and time.Now.
	Logger *slog.Logger
	Now    func() time.Time
	// PollInterval is how often idle workers look for jobs (default 1 s).
	PollInterval time.Duration
	// Work says whether this process works scan jobs. A process that only starts scans and
	// reads their results (tests, a command that enqueues) sets it false.
	Work bool
}

// batchSize is how many customers' outcomes one transaction stores at most: a chunk of the
// default size (250) is stored in one transaction when its job runs through, so a commit (an
// fsync on SQLite) and the write lock's hand-over are paid per chunk, not per few customers.
const batchSize = 500

// Scanner runs scans and answers for them. It is safe for concurrent use.
type Scanner struct {
	db        *store.DB
	portfolio Portfolio
	d1        Fetcher
	fp        *fingerprinter
	limiter   *limiter
	clock     stageClock
	// sqliteWrite lets one of this process's workers at a time store a batch on SQLite.
	sqliteWrite sync.Mutex
	queue       queue
	log         *slog.Logger
	now         func() time.Time
	chunkSize   int
	jobTimeout  time.Duration
	onFinish    func(ctx context.Context, p Progress)
	stopFlush   context.CancelFunc
	flushDone   chan struct{}
}

// New builds a Scanner and its River client (not started: see Start).
func New(o Options) (*Scanner, error) {
	if o.DB == nil || o.Portfolio == nil || o.D1 == nil {
		return nil, errors.New("scan: the dashboard database, the portfolio and the D1 client are required")
	}
	fp, err := newFingerprinter(o.Key)
	if err != nil {
		return nil, err
	}
	if o.Rate < 0 {
		return nil, errors.New("scan: the rate must not be negative")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 250
	}
	if o.ChunkSize > issuerdb.MaxWalkPage {
		return nil, fmt.Errorf("scan: chunk size %d is over %d", o.ChunkSize, issuerdb.MaxWalkPage)
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 10 * time.Minute
	}
	if o.OnFinish == nil {
		o.OnFinish = func(context.Context, Progress) {}
	}
	s := &Scanner{
		db: o.DB, portfolio: o.Portfolio, d1: o.D1, fp: fp, log: o.Logger, now: o.Now,
		chunkSize: o.ChunkSize, jobTimeout: o.JobTimeout, onFinish: o.OnFinish,
		limiter: newLimiter(o.DB, o.Rate, o.Now),
	}
	if s.queue, err = newQueue(s, o); err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts working scan jobs (and, on the elected leader, the schedule) until Stop.
func (s *Scanner) Start(ctx context.Context) error {
	if err := s.queue.Start(ctx); err != nil {
		return fmt.Errorf("scan: start River: %w", err)
	}
	fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopFlush, s.flushDone = stop, make(chan struct{})
	go s.flushLoop(fctx)
	return nil
}

// Stop lets the jobs in hand store what they have (they snooze and resume elsewhere or after
// a restart) and stops River.
func (s *Scanner) Stop(ctx context.Context) error {
	if s.stopFlush != nil {
		s.stopFlush()
		<-s.flushDone
		s.stopFlush = nil
	}
	if err := s.queue.Stop(ctx); err != nil {
		return fmt.Errorf("scan: stop River: %w", err)
	}
	return nil
}

// flushLoop writes people's D1 calls into the shared rate rows every 200 ms.
func (s *Scanner) flushLoop(ctx context.Context) {
	defer close(s.flushDone)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.limiter.flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("scan: rate bookkeeping failed", slog.String("error", err.Error()))
			}
		}
	}
}

// Interactive wraps the D1 client people's comparisons use, so that their calls go first:
// while one is in flight the scan workers of this replica wait, and each call is counted
// against the scan's share of the second it was made in, on every replica.
func (s *Scanner) Interactive(next Fetcher) Fetcher {
	return &interactive{next: next, l: s.limiter, now: s.now}
}

type interactive struct {
	next Fetcher
	l    *limiter
	now  func() time.Time
}

func (i *interactive) GetProfiles(ctx context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error) {
	i.l.interactive.Add(1)
	defer i.l.interactive.Add(-1)
	res, err := i.next.GetProfiles(ctx, consumerID, opt)
	if err != nil || !res.Cached {
		i.l.countInteractive(i.now())
	}
	return res, err
}

// StartRequest is an on-demand scan.
type StartRequest struct {
	Trigger Trigger
	// By and ByName are the person who started it (subject and display name).
	By, ByName string
	Filter     issuerdb.WalkFilter
}

// StartScan creates a scan and queues its planning. Only one scan runs at a time: while one
// does, StartScan returns ErrConflict.
func (s *Scanner) StartScan(ctx context.Context, req StartRequest) (Run, error) {
	if err := req.Filter.Validate(); err != nil {
		return Run{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if req.Trigger != TriggerAnalyst && req.Trigger != TriggerCommand {
		return Run{}, fmt.Errorf("%w: trigger %q", ErrInvalid, req.Trigger)
	}
	return s.start(ctx, req.Trigger, req.By, req.ByName, req.Filter, "")
}

func (s *Scanner) start(ctx context.Context, trigger Trigger, by, byName string, f issuerdb.WalkFilter, key string) (Run, error) {
	if r, ok, err := s.running(ctx); err != nil {
		return Run{}, err
	} else if ok {
		return Run{}, fmt.Errorf("%w: scan %d is running", ErrConflict, r.ID)
	}
	run, created, err := s.createRun(ctx, trigger, by, byName, f, key)
	if err != nil {
		if r, ok, rerr := s.running(ctx); rerr == nil && ok {
			// Another replica started one between the check and the insert.
			return Run{}, fmt.Errorf("%w: scan %d is running", ErrConflict, r.ID)
		}
		return Run{}, err
	}
	if !created {
		return run, nil
	}
	if err := s.queue.insert(ctx, planArgs{ScanID: run.ID, Generation: run.Generation}); err != nil {
		return Run{}, err
	}
	s.log.Info("scan started", slog.Int64("scan", run.ID), slog.String("trigger", string(trigger)))
	return run, nil
}

// Cancel stops a running scan: its jobs stop at their next batch, keeping what they stored.
func (s *Scanner) Cancel(ctx context.Context, id int64, by string) (Run, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE scans SET state = ?, cancelled_at = ?, cancelled_by = ? WHERE id = ? AND state = ?"),
		StateCancelled, s.now().UnixMilli(), by, id, StateRunning)
	if err != nil {
		return Run{}, fmt.Errorf("scan: cancel: %w", err)
	}
	return s.changed(ctx, id, res, "cancel")
}

// Resume continues a cancelled scan where it stopped: chunks already done stay done.
func (s *Scanner) Resume(ctx context.Context, id int64) (Run, error) {
	if r, ok, err := s.running(ctx); err != nil {
		return Run{}, err
	} else if ok {
		return Run{}, fmt.Errorf("%w: scan %d is running", ErrConflict, r.ID)
	}
	res, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE scans SET state = ?, generation = generation + 1, cancelled_at = NULL WHERE id = ? AND state = ?"),
		StateRunning, id, StateCancelled)
	if err != nil {
		return Run{}, fmt.Errorf("scan: resume: %w", err)
	}
	run, err := s.changed(ctx, id, res, "resume")
	if err != nil {
		return Run{}, err
	}
	if err := s.queue.insert(ctx, planArgs{ScanID: run.ID, Generation: run.Generation}); err != nil {
		return Run{}, err
	}
	return run, nil
}

// changed reads the scan after a state change, telling "no such scan" from "not in a state
// that allows it".
func (s *Scanner) changed(ctx context.Context, id int64, res interface{ RowsAffected() (int64, error) }, op string) (Run, error) {
	run, err := s.Run(ctx, id)
	if err != nil {
		return Run{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Run{}, fmt.Errorf("%w: cannot %s a scan that is %s", ErrConflict, op, run.State)
	}
	return run, nil
}
