package audit

import (
	"fmt"
	"sort"
	"time"
)

// witnessGrace is how long a checkpoint may be in the database without being in the witness:
// the witness takes it right after the commit that sealed it, so a verification running at
// that moment can see the one without the other.
const witnessGrace = time.Minute

// checkWitness compares the database's head and checkpoints with the witness: the witness's
// own chain and seals, every witnessed checkpoint against the database's, the head against the
// last witnessed seal, and every checkpoint of the database against the witness.
func (w *walker) checkWitness(cps []checkpoint, wl *WitnessLog) {
	check := &WitnessCheck{Source: wl.Source, Notes: append([]string(nil), wl.Notes...)}
	w.report.Witness = check
	if wl.Absent && len(cps) == 0 {
		check.Notes = append(check.Notes, "the witness does not exist yet")
	}
	byN := w.checkWitnessChain(wl)
	check.Seals = len(byN)
	ns := make([]int64, 0, len(byN))
	var last WitnessRecord
	for n, r := range byN {
		ns = append(ns, n)
		if r.Seq > last.Seq {
			last = r
		}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	check.LastSeq = last.Seq

	dbByN := make(map[int64]checkpoint, len(cps))
	for _, c := range cps {
		dbByN[c.N] = c
	}
	var purge *checkpoint
	if len(cps) > 0 && cps[0].Kind == kindPurge {
		purge = &cps[0]
	}
	var missing []WitnessRecord
	for _, n := range ns {
		r := byN[n]
		c, ok := dbByN[n]
		switch {
		case ok && (c.Seq != r.Seq || c.Hash != r.Hash):
			w.fail(min(c.Seq, r.Seq), "checkpoint %d differs from the witness (line %d): the database seals seq %d with hash %s…, "+
				"the witness seq %d with hash %s…", n, r.Line, c.Seq, c.Hash[:12], r.Seq, r.Hash[:12])
		case ok && c != r.checkpoint():
			w.fail(c.Seq, "checkpoint %d's seal differs from the witness's (line %d)", n, r.Line)
		case ok:
		case purge != nil && n < purge.N && r.Seq <= purge.Seq:
			// Removed by the retention purge, whose own sealed checkpoint vouches for it.
		case purge != nil && n < purge.N:
			// The purge deletes every checkpoint numbered before its own, also one that seals a
			// retained event; the witness still vouches for that event's hash.
			w.addSeal(r.checkpoint())
		default:
			missing = append(missing, r)
		}
	}
	switch {
	case last.Seq > w.h.seq:
		what := "events were removed and the head rolled back"
		if len(missing) > 0 {
			what = describeWitnessed(missing) + " not in the database"
		}
		w.fail(w.h.seq+1, "the sealed head is at seq %d, behind the last witnessed seal (checkpoint %d at seq %d): %s",
			w.h.seq, last.N, last.Seq, what)
	case len(missing) > 0:
		w.fail(missing[0].Seq, "%s not in the database", describeWitnessed(missing))
	}

	cutoff := w.t.opts.Now().Add(-witnessGrace).UnixMilli()
	var unwitnessed []checkpoint
	for _, c := range cps {
		if _, ok := byN[c.N]; !ok && c.AtMS <= cutoff && c.valid(w.t.seal) {
			unwitnessed = append(unwitnessed, c)
		}
	}
	switch {
	case len(unwitnessed) == 0:
	case wl.Absent:
		w.fail(unwitnessed[0].Seq, "the witness %s does not exist, but the database holds %s: the witness was deleted, "+
			"or is not the one this trail writes to", wl.Source, describeCheckpoints(unwitnessed))
	default:
		w.fail(unwitnessed[0].Seq, "the witness lacks %s, which the database holds: records were removed from the witness, "+
			"or it is not the one this trail writes to", describeCheckpoints(unwitnessed))
	}
}

// addSeal has the walk check the event at c.Seq against c, unless a checkpoint of the
// database already seals that seq.
func (w *walker) addSeal(c checkpoint) {
	if _, ok := w.bySeq[c.Seq]; ok {
		return
	}
	w.bySeq[c.Seq] = c
	w.sealedSeqs = append(w.sealedSeqs, c.Seq)
	sort.Slice(w.sealedSeqs, func(i, j int) bool { return w.sealedSeqs[i] < w.sealedSeqs[j] })
}

// checkWitnessChain checks that every witness record names the one before it and that its
// seal verifies, and returns the records whose seal verifies by checkpoint number. The same
// seal twice is harmless (two processes catching the witness up at once); two different
// seals for one number mean the trail was rolled back and sealed that number again.
func (w *walker) checkWitnessChain(wl *WitnessLog) map[int64]WitnessRecord {
	byN := make(map[int64]WitnessRecord, len(wl.Records))
	prev, prevLine := GenesisHash, 0
	for _, r := range wl.Records {
		switch {
		case r.Prev == prev:
		case prevLine == 0:
			w.fail(r.Seq, "the witness chain is broken at line %d: the first record names a record before it, "+
				"so records were removed from the start of the witness", r.Line)
		default:
			w.fail(r.Seq, "the witness chain is broken at line %d: it does not name the record on line %d as the one before it, "+
				"so a record was removed, inserted or edited", r.Line, prevLine)
		}
		prev, prevLine = r.Digest, r.Line
		if !r.checkpoint().valid(w.t.seal) {
			w.fail(r.Seq, "witness line %d: the seal of checkpoint %d does not verify under the configured key: "+
				"the record was forged or altered", r.Line, r.N)
			continue
		}
		o, seen := byN[r.N]
		switch {
		case !seen:
			byN[r.N] = r
		case !o.sameSeal(r):
			w.fail(min(o.Seq, r.Seq), "the witness holds two different seals for checkpoint %d (lines %d and %d): "+
				"the trail was rolled back and that checkpoint sealed again", r.N, o.Line, r.Line)
		}
	}
	return byN
}

// describeWitnessed names witness records in checkpoint order, with the verb that follows:
// "witnessed checkpoint 2 (seq 40) is", "witnessed checkpoints 1 to 2 (seq 20 to 40) are".
func describeWitnessed(rs []WitnessRecord) string {
	first, last := rs[0], rs[len(rs)-1]
	what, plural := describeSeqs(int64(len(rs)), first.N, last.N, "witnessed checkpoint", "witnessed checkpoints")
	return what + seqSpan(first.Seq, last.Seq) + " " + verb(plural, "is", "are")
}

// describeCheckpoints names database checkpoints in order: "checkpoint 2 (seq 40)".
func describeCheckpoints(cs []checkpoint) string {
	first, last := cs[0], cs[len(cs)-1]
	what, _ := describeSeqs(int64(len(cs)), first.N, last.N, "checkpoint", "checkpoints")
	return what + seqSpan(first.Seq, last.Seq)
}

func seqSpan(lo, hi int64) string {
	if lo == hi {
		return fmt.Sprintf(" (seq %d)", lo)
	}
	return fmt.Sprintf(" (seq %d to %d)", lo, hi)
}
