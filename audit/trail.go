package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"ctpdesk/store"
)

// ErrUnavailable is returned when an event could not be committed: the database failed, the
// caller's context ended first, or the trail is closed. Callers must then withhold the data
// the event was about (the HTTP layer answers 503).
var ErrUnavailable = errors.New("audit: trail unavailable")

// MinKeyLen is the shortest HMAC key the trail accepts (256 bits).
const MinKeyLen = 32

// Options configure a Trail. Key is required; zero values of the others take the defaults.
type Options struct {
	// Key is the HMAC-SHA256 key that seals checkpoints and the chain head.
	Key []byte
	// CheckpointEvery seals a checkpoint at every seq that is a multiple of it (default 1000).
	CheckpointEvery int64
	// QueueSize bounds the events waiting for the writer (default 4096); Record blocks, within
	// its context, while the queue is full.
	QueueSize int
	// MaxBatch caps the events committed in one transaction (default 512).
	MaxBatch int
	// CommitTimeout bounds one batch transaction (default 10s); a batch whose callers all
	// stopped waiting ends sooner (see commitContext).
	CommitTimeout time.Duration
	// RecordTimeout bounds how long Record waits for its commit (default
	// DefaultRecordTimeout); the caller's deadline wins when it is nearer.
	RecordTimeout time.Duration
	// Metrics observes every batch commit (default: nothing observes).
	Metrics Metrics
	// StatusMaxAge is how long Status reuses a verification report (default 1 minute).
	StatusMaxAge time.Duration
	// StatusFullEvery is how often Status walks the whole chain instead of only the events
	// added since its last check (default 1 hour).
	StatusFullEvery time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives operational messages, never event contents (default slog.Default()).
	// Every seal the witness takes is also logged here, so the log pipeline keeps a copy.
	Logger *slog.Logger
	// Witness receives every sealed checkpoint as it is made, outside the database; Verify
	// checks the database against it. Without one, emptying the trail or restoring an older
	// copy of it goes unnoticed, so production always configures one.
	Witness Witness
}

// Trail is the append-only, hash-chained audit trail. One writer goroutine commits the events
// of concurrent Record calls together (group commit), so each commit's fsync is shared by many
// requests while every caller still returns only once its own event is durable.
type Trail struct {
	db     *store.DB
	opts   Options
	seal   sealer
	queue  chan *pending
	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	done   chan struct{}
	status statusCache
	// witnessBehind is set when the witness may lack checkpoints the database holds: at start
	// (a crash may have come between a commit and its witness write) and after a failed
	// witness write. The next commit first catches the witness up.
	witnessBehind atomic.Bool
	health        commitHealth
}

// pending is one event waiting for its batch, and where its result goes.
type pending struct {
	ctx    context.Context
	ev     Event
	result chan error // buffered(1): the writer never blocks on a caller that left
	// orig is the event as normalised before its limits were applied, and limited the limit
	// that refused it; both only for an event with limits (limits.go).
	orig    Event
	limited *LimitError
}

// New starts a trail on db, whose schema store.Open has already migrated.
func New(db *store.DB, opts Options) (*Trail, error) {
	if db == nil {
		return nil, errors.New("audit: new: nil database")
	}
	if len(opts.Key) < MinKeyLen {
		return nil, fmt.Errorf("audit: new: HMAC key has %d bytes, at least %d required", len(opts.Key), MinKeyLen)
	}
	if opts.CheckpointEvery < 0 || opts.QueueSize < 0 || opts.MaxBatch < 0 || opts.CommitTimeout < 0 {
		return nil, errors.New("audit: new: negative option")
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = 1000
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = 4096
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 512
	}
	if opts.CommitTimeout == 0 {
		opts.CommitTimeout = 10 * time.Second
	}
	if opts.StatusMaxAge == 0 {
		opts.StatusMaxAge = time.Minute
	}
	if opts.StatusFullEvery == 0 {
		opts.StatusFullEvery = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := opts.setFailureDefaults(); err != nil {
		return nil, err
	}
	opts.Key = append([]byte(nil), opts.Key...)
	t := &Trail{
		db:    db,
		opts:  opts,
		seal:  newSealer(opts.Key),
		queue: make(chan *pending, opts.QueueSize),
		done:  make(chan struct{}),
	}
	t.witnessBehind.Store(opts.Witness != nil)
	go t.write()
	return t, nil
}

// Record appends e and returns only after it is durably committed. An error means the event
// may not be stored and the caller must not show the data it describes; errors wrap
// ErrUnavailable, or ErrInvalidEvent for an event the trail refuses.
func (t *Trail) Record(ctx context.Context, e Event) error {
	return t.Begin(ctx, e).Wait()
}

// Append is Record that also returns the event as stored: normalised, with its seq, time and
// hashes. If ctx ends after the event joined a batch that then commits, the event is stored
// although Append reports an error; a recorded access that was then refused is harmless, an
// access shown without its record is not.
func (t *Trail) Append(ctx context.Context, e Event) (Event, error) {
	return t.Begin(ctx, e).wait()
}

// Begin is Record in two halves: it queues e for the writer and returns at once, and the
// receipt's Wait returns what Record would have. A handler prepares its answer while the
// event commits (the fsync leaves the CPU idle) and sends nothing of it before Wait returns
// nil. Every receipt must be waited for: until then it holds its Record timeout.
func (t *Trail) Begin(ctx context.Context, e Event) *Receipt {
	ev, err := normalize(e, t.opts.Now())
	if err != nil {
		return Settled(err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.RecordTimeout)
	p := &pending{ctx: ctx, ev: ev, result: make(chan error, 1)}
	if len(ev.Limits) > 0 {
		p.orig = ev
	}
	if err := t.enqueue(ctx, p); err != nil {
		cancel()
		return Settled(err)
	}
	return &Receipt{p: p, cancel: cancel}
}

// Receipt is an event Begin handed to the trail, on its way to being committed. It belongs to
// the request that began it: Wait may be called again, but from one goroutine at a time.
type Receipt struct {
	p      *pending // nil when the event was settled before it was queued
	cancel context.CancelFunc
	done   bool
	ev     Event
	err    error
}

// Settled is a receipt for an event whose fate is already known: err (nil when it is
// durably stored). Auditors that record synchronously answer Begin with it.
func Settled(err error) *Receipt { return &Receipt{done: true, err: err} }

// Wait returns once the event is durably committed, or with the error that means it may not
// be stored, exactly as Record does. Calling it again returns the same answer.
func (r *Receipt) Wait() error {
	_, err := r.wait()
	return err
}

func (r *Receipt) wait() (Event, error) {
	if r.done {
		return r.ev, r.err
	}
	r.done = true
	defer r.cancel()
	select {
	case err := <-r.p.result:
		switch {
		case errors.Is(err, ErrLimited):
			r.ev, r.err = r.p.ev, err
		case err != nil:
			r.err = err
		default:
			r.ev = r.p.ev
		}
	case <-r.p.ctx.Done():
		r.err = fmt.Errorf("audit: record: %w: %w", ErrUnavailable, r.p.ctx.Err())
	}
	return r.ev, r.err
}

func (t *Trail) enqueue(ctx context.Context, p *pending) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return fmt.Errorf("audit: record: %w: trail closed", ErrUnavailable)
	}
	select {
	case t.queue <- p:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit: record: %w: %w", ErrUnavailable, ctx.Err())
	}
}

// Close stops accepting events, commits every event already queued, and waits for the writer.
// It does not close the database.
func (t *Trail) Close() error {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.queue)
	}
	t.mu.Unlock()
	<-t.done
	return nil
}

// write is the single writer goroutine: it takes whatever has queued up while the previous
// commit was in flight, up to MaxBatch events, and commits it as one transaction.
func (t *Trail) write() {
	defer close(t.done)
	batch := make([]*pending, 0, t.opts.MaxBatch)
	for {
		p, ok := <-t.queue
		if !ok {
			return
		}
		batch = append(batch[:0], p)
	fill:
		for len(batch) < t.opts.MaxBatch {
			select {
			case p, ok := <-t.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		t.commitBatch(batch)
	}
}

// commitBatch drops the events whose callers already gave up (they were told the event is not
// stored, so storing it would be harmless but pointless), commits the rest, and tells every
// caller the outcome of its batch.
func (t *Trail) commitBatch(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.result <- fmt.Errorf("audit: record: %w: %w", ErrUnavailable, err)
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := t.commitContext(live)
	defer cancel()
	start := time.Now()
	err := t.commit(ctx, live)
	t.committed(len(live), time.Since(start), err)
	if err != nil {
		t.opts.Logger.Error("audit: commit failed", "events", len(live), "err", err)
		err = fmt.Errorf("audit: commit: %w: %w", ErrUnavailable, err)
	}
	for _, p := range live {
		if err == nil && p.limited != nil {
			p.result <- p.limited
			continue
		}
		p.result <- err
	}
}

// commit makes the events of batch durable: it catches the witness up if it may be behind,
// appends the events, and has the witness take every checkpoint the append sealed. The events
// count as committed only when the witness holds their seals too; until a failed witness write
// is made good, no further event is committed. An append that fails on rows beyond the sealed
// head sets those rows aside and is tried once more.
func (t *Trail) commit(ctx context.Context, batch []*pending) error {
	if err := t.catchUpWitness(ctx); err != nil {
		return err
	}
	cps, err := t.appendTx(ctx, batch)
	if err != nil {
		moved, serr := t.setAsideBeyondHead(ctx)
		if serr != nil || moved == (setAside{}) {
			return err
		}
		t.opts.Logger.Error("audit: rows beyond the sealed head were set aside as forged",
			"events", moved.events, "checkpoints", moved.checkpoints)
		if cps, err = t.appendTx(ctx, batch); err != nil {
			return err
		}
	}
	return t.witnessSeals(ctx, cps)
}

// witnessSeals hands the witness each checkpoint just committed, and logs each one as the
// second copy; first it hands it the checkpoint before them again, which the witness skips
// when it already ends with it. After a failure the witness counts as behind, so the next
// commit catches it up.
func (t *Trail) witnessSeals(ctx context.Context, s seals) error {
	if t.opts.Witness == nil {
		return nil
	}
	if p := s.previous; p != nil && p.valid(t.seal) {
		if err := t.opts.Witness.Append(ctx, witnessRecordOf(*p)); err != nil {
			t.witnessBehind.Store(true)
			return fmt.Errorf("witness checkpoint %d: %w", p.N, err)
		}
	}
	for _, c := range s.made {
		if err := t.witnessOne(ctx, c); err != nil {
			t.witnessBehind.Store(true)
			return err
		}
	}
	return nil
}

func (t *Trail) witnessOne(ctx context.Context, c checkpoint) error {
	r := witnessRecordOf(c)
	if err := t.opts.Witness.Append(ctx, r); err != nil {
		return fmt.Errorf("witness checkpoint %d: %w", c.N, err)
	}
	t.opts.Logger.Info("audit: seal witnessed", "checkpoint", c.N, "kind", c.Kind, "seq", c.Seq, "hash", c.Hash,
		"at", r.Time.Format(witnessTimeLayout), "key_id", c.KeyID, "mac", c.MAC)
	return nil
}

// catchUpWitness appends to the witness, in order, every checkpoint in the database that the
// witness does not hold, when the witness may be behind. Only checkpoints whose seal verifies
// are witnessed. A missing checkpoint is the trace of a crash between a commit and its witness
// write, or of a failed write; a witness that is empty while the database holds checkpoints
// is a new witness on an existing trail (or one that was deleted), and is logged as a warning
// because the witness can vouch only for what it is given from now on.
func (t *Trail) catchUpWitness(ctx context.Context) error {
	if t.opts.Witness == nil || !t.witnessBehind.Load() {
		return nil
	}
	wl, err := t.opts.Witness.Read(ctx)
	if err != nil {
		return fmt.Errorf("witness: %w", err)
	}
	held := make(map[checkpoint]bool, len(wl.Records))
	for _, r := range wl.Records {
		held[r.checkpoint()] = true
	}
	cps, err := loadCheckpoints(ctx, t.db, t.db, 0)
	if err != nil {
		return fmt.Errorf("witness catch-up: %w", err)
	}
	if len(wl.Records) == 0 && len(cps) > 0 {
		t.opts.Logger.Warn("audit: the witness holds no seals; it starts from the database's checkpoints as they stand",
			"witness", wl.Source, "checkpoints", len(cps))
	}
	for _, c := range cps {
		switch {
		case held[c]:
		case !c.valid(t.seal):
			t.opts.Logger.Error("audit: a checkpoint whose seal does not verify was not witnessed", "checkpoint", c.N, "seq", c.Seq)
		default:
			if err := t.witnessOne(ctx, c); err != nil {
				return err
			}
		}
	}
	t.witnessBehind.Store(false)
	return nil
}
