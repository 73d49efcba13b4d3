package audit

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"ctpdesk/store"
)

// verifyPage is how many events Verify reads per query.
const verifyPage = 2000

// Break is the first broken link Verify found: the sequence number it concerns and what is
// wrong there. When the damage can only be narrowed down to a stretch of the chain (events
// rewritten and rehashed up to a sealed checkpoint), To is the last seq of that stretch, which
// starts at Seq; otherwise To is 0.
type Break struct {
	Seq     int64
	To      int64
	Problem string
}

// VerifyReport is the result of walking the chain.
type VerifyReport struct {
	// Events is the number of events checked, FirstSeq..LastSeq.
	Events   int64
	FirstSeq int64
	LastSeq  int64
	// Checkpoints is the number of sealed checkpoints whose seal verified.
	Checkpoints int
	// PurgedThrough is the last seq removed by the retention purge (0 if none); the chain is
	// verified from the purge checkpoint sealed at that seq.
	PurgedThrough int64
	// Break is the first problem, nil when the chain verifies.
	Break *Break
	// Witness is what the comparison with the witness found; nil when the chain was verified
	// without a witness.
	Witness *WitnessCheck
	// CheckedAt is when the walk finished.
	CheckedAt time.Time
}

// WitnessCheck summarises the witness a chain was verified against.
type WitnessCheck struct {
	// Source names the witness, e.g. its file.
	Source string
	// Seals is how many distinct sealed checkpoints the witness holds; LastSeq is the highest
	// seq one of them seals (0 when it holds none).
	Seals   int
	LastSeq int64
	// Notes name the witness lines skipped as no record (see WitnessLog.Notes).
	Notes []string
}

// OK reports whether the chain verified.
func (r VerifyReport) OK() bool { return r.Break == nil }

// String is the one-line verdict printed by `ctpdesk audit verify` and shown to auditors.
func (r VerifyReport) String() string {
	switch {
	case r.Break != nil && r.Break.To > r.Break.Seq:
		return fmt.Sprintf("broken in seq %d to %d: %s", r.Break.Seq, r.Break.To, r.Break.Problem)
	case r.Break != nil:
		return fmt.Sprintf("broken at seq %d: %s", r.Break.Seq, r.Break.Problem)
	case r.Witness != nil:
		return fmt.Sprintf("verified %d events up to seq %d, matching %d witnessed seals", r.Events, r.LastSeq, r.Witness.Seals)
	}
	return fmt.Sprintf("verified %d events up to seq %d", r.Events, r.LastSeq)
}

// Verify walks the whole chain in one read snapshot and reports the first broken link. It
// checks, in seq order: no seq is missing; each event's hash is SHA-256 over its stored
// previous hash and its canonical encoding; each previous hash is the hash of the event before
// (or the sealed start); every checkpoint's seal verifies under the key and matches the event
// it names; the sealed head names the last event and the last checkpoint; nothing is stored
// beyond the head, and nothing was set aside from beyond it. With a witness configured it
// also checks the database against the witness (see VerifyWitnessed). A returned error means
// the walk itself failed (database or witness unreadable), not that the chain is broken.
func (t *Trail) Verify(ctx context.Context) (VerifyReport, error) {
	wl, err := t.readWitness(ctx)
	if err != nil {
		return VerifyReport{}, fmt.Errorf("audit: verify: %w", err)
	}
	rep, _, err := t.verify(ctx, nil, wl)
	return rep, err
}

// VerifyWitnessed is Verify against the given witness records instead of the configured
// witness. Beyond Verify's checks it fails, naming what is missing, when the witness chain is
// broken (a record removed, inserted or edited, or a seal that does not verify); when the
// database lacks a witnessed checkpoint or holds a different one; when the sealed head is
// behind the last witnessed seal; and when the database holds a checkpoint the witness lacks
// (a checkpoint sealed within the last minute may still be on its way to the witness).
func (t *Trail) VerifyWitnessed(ctx context.Context, wl WitnessLog) (VerifyReport, error) {
	rep, _, err := t.verify(ctx, nil, &wl)
	return rep, err
}

// readWitness reads the configured witness, nil when there is none. It is read before the
// database snapshot is taken, so a seal the snapshot lacks can never be in it.
func (t *Trail) readWitness(ctx context.Context) (*WitnessLog, error) {
	if t.opts.Witness == nil {
		return nil, nil
	}
	wl, err := t.opts.Witness.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("read witness: %w", err)
	}
	return &wl, nil
}

// verified is a point up to which the chain was already verified: the event's seq and hash,
// and how many events that verification counted.
type verified struct {
	seq      int64
	hash     string
	events   int64
	firstSeq int64
	purged   int64
}

// verify walks the chain in one read snapshot, and compares it with wl when wl is not nil.
// With from set it still checks every seal, but walks only the events after from, trusting
// the ones up to it (an incremental check); the counts then include from.events. It also
// returns the point it verified up to.
func (t *Trail) verify(ctx context.Context, from *verified, wl *WitnessLog) (VerifyReport, verified, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if t.db.Dialect == store.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := t.db.BeginTx(ctx, opts)
	if err != nil {
		return VerifyReport{}, verified{}, fmt.Errorf("audit: verify: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var h head
	err = tx.QueryRowContext(ctx, "SELECT seq, hash, checkpoint_n, key_id, mac FROM audit_head WHERE id = 1").
		Scan(&h.seq, &h.hash, &h.checkpointN, &h.keyID, &h.mac)
	if err != nil {
		return VerifyReport{}, verified{}, fmt.Errorf("audit: verify: read head: %w", err)
	}
	cps, err := loadCheckpoints(ctx, t.db, tx, 0)
	if err != nil {
		return VerifyReport{}, verified{}, fmt.Errorf("audit: verify: %w", err)
	}
	w := walker{t: t, h: h, report: VerifyReport{LastSeq: h.seq}}
	w.checkStructure(cps)
	if err := w.checkBeyondHead(ctx, tx); err != nil {
		return VerifyReport{}, verified{}, fmt.Errorf("audit: verify: %w", err)
	}
	if wl != nil {
		w.checkWitness(cps, wl)
	}
	// A purge since the last check changes the counts: walk everything again then.
	if from != nil && from.purged == w.report.PurgedThrough && from.seq > w.startSeq && from.seq <= h.seq {
		w.startSeq, w.startHash = from.seq, from.hash
		w.report.Events, w.report.FirstSeq = from.events, from.firstSeq
	}
	if err := w.walk(ctx, tx); err != nil {
		return VerifyReport{}, verified{}, fmt.Errorf("audit: verify: %w", err)
	}
	w.report.CheckedAt = t.opts.Now().UTC()
	return w.report, verified{seq: h.seq, hash: h.hash, events: w.report.Events, firstSeq: w.report.FirstSeq,
		purged: w.report.PurgedThrough}, nil
}

// walker holds the state of one verification.
type walker struct {
	t      *Trail
	h      head
	report VerifyReport
	// startSeq and startHash are the sealed point the walk starts after: 0 and the genesis
	// hash, or the purge checkpoint.
	startSeq  int64
	startHash string
	// bySeq holds the checkpoints whose seal verified, by the seq they name; sealedSeqs
	// holds those seqs in increasing order.
	bySeq      map[int64]checkpoint
	sealedSeqs []int64
}

// fail records a break unless one with a lower seq is already known: the report names the
// first broken link in seq order, whichever check found it (the first found, of two at one
// seq).
func (w *walker) fail(seq int64, format string, args ...any) {
	w.failRange(seq, 0, format, args...)
}

// failRange is fail for damage somewhere in seq from..to. Of two breaks starting at the same
// seq the report keeps the one that narrows the damage down further.
func (w *walker) failRange(from, to int64, format string, args ...any) {
	if to <= from {
		to = 0
	}
	if b := w.report.Break; b != nil && (b.Seq < from || b.Seq == from && max(b.To, b.Seq) <= max(to, from)) {
		return
	}
	w.report.Break = &Break{Seq: from, To: to, Problem: fmt.Sprintf(format, args...)}
}

// sealedBefore is the last seq before seq that a verified checkpoint (or the sealed start of
// the chain) vouches for: the stretch after it up to seq is what a mismatch at seq concerns.
func (w *walker) sealedBefore(seq int64) int64 {
	i := sort.Search(len(w.sealedSeqs), func(i int) bool { return w.sealedSeqs[i] >= seq })
	if i == 0 {
		return w.startSeq
	}
	return max(w.sealedSeqs[i-1], w.startSeq)
}

// checkStructure verifies the seals of the head and the checkpoints and that no checkpoint is
// missing, and picks the sealed start of the chain.
func (w *walker) checkStructure(cps []checkpoint) {
	s := w.t.seal
	h := w.h
	w.startHash = GenesisHash
	w.bySeq = make(map[int64]checkpoint, len(cps))
	for i, c := range cps {
		switch {
		case !c.valid(s):
			w.fail(c.Seq, "checkpoint %d's seal does not verify: it was forged or altered", c.N)
			continue
		case c.Seq > h.seq:
			w.fail(h.seq, "checkpoint %d names seq %d beyond the sealed head", c.N, c.Seq)
		case i == 0 && c.Kind == kindPurge:
			w.startSeq, w.startHash = c.Seq, c.Hash
			w.report.PurgedThrough = c.Seq
		case i == 0 && c.N != 1:
			what, plural := describeSeqs(c.N-1, 1, c.N-1, "checkpoint", "checkpoints")
			w.fail(1, "%s %s missing and no purge checkpoint marks a new start", what, verb(plural, "is", "are"))
		case i > 0 && c.N != cps[i-1].N+1:
			w.fail(c.Seq, "checkpoint %d is missing before checkpoint %d", cps[i-1].N+1, c.N)
		case i > 0 && c.Kind == kindPurge:
			w.fail(c.Seq, "purge checkpoint %d has older checkpoints that the purge should have removed", c.N)
		}
		w.bySeq[c.Seq] = c
		if c.Seq <= h.seq {
			w.sealedSeqs = append(w.sealedSeqs, c.Seq)
		}
		w.report.Checkpoints++
	}
	sort.Slice(w.sealedSeqs, func(i, j int) bool { return w.sealedSeqs[i] < w.sealedSeqs[j] })
	fresh := h.seq == 0 && h.checkpointN == 0 && h.mac == "" && h.hash == GenesisHash
	from := w.sealedBefore(h.seq+1) + 1
	switch {
	case fresh:
	case h.keyID != s.keyID:
		w.fail(h.seq, "the chain head is sealed under another key (id %s, configured %s)", h.keyID, s.keyID)
	case !equalMAC(h.mac, s.headMAC(h.seq, h.hash, h.checkpointN)) && from < h.seq:
		w.failRange(from, h.seq, "the chain head's seal does not verify: the head was rewritten without the key, "+
			"so nothing proves the events after the last sealed checkpoint")
	case !equalMAC(h.mac, s.headMAC(h.seq, h.hash, h.checkpointN)):
		w.fail(h.seq, "the chain head's seal does not verify: the head was rewritten without the key")
	}
	lastN := int64(0)
	if len(cps) > 0 {
		lastN = cps[len(cps)-1].N
	}
	if lastN != h.checkpointN {
		w.fail(h.seq, "the sealed head names checkpoint %d but the last stored checkpoint is %d", h.checkpointN, lastN)
	}
}

// walk reads the events after the sealed start, up to the head, and checks every link.
func (w *walker) walk(ctx context.Context, tx *sql.Tx) error {
	it := rowIter{tx: tx, db: w.t.db, after: w.startSeq, upTo: w.h.seq}
	expected, prevHash := w.startSeq+1, w.startHash
	var prevRow *storedEvent
	for {
		cur, err := it.next(ctx)
		if err != nil {
			return err
		}
		if cur == nil {
			break
		}
		if !w.checkEvent(ctx, &it, cur, prevRow, expected, prevHash) {
			return nil
		}
		if w.report.Events == 0 {
			w.report.FirstSeq = cur.Seq
		}
		w.report.Events++
		prevHash, prevRow, expected = cur.Hash, cur, expected+1
	}
	switch {
	case expected-1 < w.h.seq:
		w.fail(expected, "events %d to %d are missing: the sealed head is at seq %d", expected, w.h.seq, w.h.seq)
	case prevHash != w.h.hash:
		w.fail(w.h.seq, "the last event's hash differs from the sealed head's")
	}
	return nil
}

// checkEvent checks one event and its link to the one before; it returns false at the first
// break.
func (w *walker) checkEvent(ctx context.Context, it *rowIter, cur, prevRow *storedEvent, expected int64, prevHash string) bool {
	if cur.Seq != expected {
		w.fail(expected, "the event is missing (the next stored event is seq %d)", cur.Seq)
		return false
	}
	if cur.decodeErr != "" {
		w.fail(cur.Seq, "%s", cur.decodeErr)
		return false
	}
	if cur.version != EncodingVersion {
		w.fail(cur.Seq, "unknown encoding version %d", cur.version)
		return false
	}
	if computed, ok := chainHash(cur.PrevHash, &cur.Event); !ok || computed != cur.Hash {
		w.fail(cur.Seq, "the hash does not match the event's contents: the event was changed after it was written")
		return false
	}
	if cur.PrevHash != prevHash {
		w.failLink(ctx, it, cur, prevRow)
		return false
	}
	if c, ok := w.bySeq[cur.Seq]; ok && c.Hash != cur.Hash {
		w.failRange(w.sealedBefore(cur.Seq)+1, cur.Seq, "an event in this stretch was changed and the hashes after it recomputed: "+
			"seq %d no longer has the hash sealed by checkpoint %d", cur.Seq, c.N)
		return false
	}
	return true
}

// failLink names the event to blame when two events, each consistent with its own hash, do
// not link. If the later event is itself vouched for (the next event chains to it, or the
// sealed head names it), the earlier one was rewritten and rehashed; otherwise the later one's
// previous hash was.
func (w *walker) failLink(ctx context.Context, it *rowIter, cur, prevRow *storedEvent) {
	if prevRow == nil {
		w.fail(cur.Seq, "the previous hash does not match the sealed start of the chain: the event was rewritten and rehashed")
		return
	}
	next, err := it.peek(ctx)
	vouched := err == nil && ((next != nil && next.PrevHash == cur.Hash) ||
		(next == nil && cur.Seq == w.h.seq && cur.Hash == w.h.hash))
	if vouched {
		w.fail(prevRow.Seq, "the event was changed and its hash recomputed: seq %d chains to a different hash", cur.Seq)
		return
	}
	w.fail(cur.Seq, "the previous hash was changed and the hash recomputed: it does not chain to seq %d", prevRow.Seq)
}

// rowIter reads events (after, upTo] in seq order, a page at a time, with one event of
// lookahead.
type rowIter struct {
	tx    *sql.Tx
	db    *store.DB
	after int64
	upTo  int64
	buf   []storedEvent
	i     int
	done  bool
}

func (it *rowIter) fill(ctx context.Context) error {
	if it.i < len(it.buf) || it.done {
		return nil
	}
	rows, err := it.tx.QueryContext(ctx, it.db.Rebind(
		"SELECT "+eventColumns+" FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"),
		it.after, it.upTo, verifyPage)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	it.buf, it.i = it.buf[:0], 0
	for rows.Next() {
		s, err := scanEvent(rows)
		if err != nil {
			return err
		}
		it.buf = append(it.buf, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	if len(it.buf) < verifyPage {
		it.done = true
	}
	if len(it.buf) > 0 {
		it.after = it.buf[len(it.buf)-1].Seq
	}
	return nil
}

func (it *rowIter) peek(ctx context.Context) (*storedEvent, error) {
	if err := it.fill(ctx); err != nil {
		return nil, err
	}
	if it.i >= len(it.buf) {
		return nil, nil
	}
	// A copy: the buffer is reused by the next page while callers still hold earlier rows.
	s := it.buf[it.i]
	return &s, nil
}

func (it *rowIter) next(ctx context.Context) (*storedEvent, error) {
	s, err := it.peek(ctx)
	if s != nil {
		it.i++
	}
	return s, err
}
