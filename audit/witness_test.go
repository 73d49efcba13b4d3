package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/store"
)

// flakyWitness is a witness file that fails its appends while broken is set, as a witness on
// unreachable storage does.
type flakyWitness struct {
	*FileWitness
	broken atomic.Bool
}

var errWitnessDown = errors.New("witness storage unreachable")

func (f *flakyWitness) Append(ctx context.Context, r WitnessRecord) error {
	if f.broken.Load() {
		return errWitnessDown
	}
	return f.FileWitness.Append(ctx, r)
}

func mustFileWitness(t *testing.T, path string) *FileWitness {
	t.Helper()
	fw, err := OpenFileWitness(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	return fw
}

// TestWitnessFailureFailsTheCommit: an event whose commit seals a checkpoint the witness
// cannot take is reported as not recorded (so its data is not shown), and so is every event
// after it until the witness holds that checkpoint again.
func TestWitnessFailureFailsTheCommit(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		fw := &flakyWitness{FileWitness: mustFileWitness(t, filepath.Join(t.TempDir(), "audit-witness.jsonl"))}
		tr := mustTrail(t, db, Options{CheckpointEvery: 5, Witness: fw})
		ctx := context.Background()
		mustRecord(t, tr, 4)
		fw.broken.Store(true)
		for i := range 3 {
			if err := tr.Record(ctx, sampleEvent(10+i)); !errors.Is(err, ErrUnavailable) || !errors.Is(err, errWitnessDown) {
				t.Fatalf("Record %d with the witness down = %v, want ErrUnavailable from the witness", i, err)
			}
		}
		// The sealing event is stored, the ones after it are not: nothing more is committed
		// while a seal is unwitnessed.
		if n := mustCount(t, db); n != 5 {
			t.Fatalf("%d events stored while the witness was down, want 5", n)
		}
		fw.broken.Store(false)
		mustRecord(t, tr, 6)
		wl := mustReadWitness(t, fw.Path())
		if len(wl.Records) != 2 || wl.Records[0].Seq != 5 || wl.Records[1].Seq != 10 {
			t.Fatalf("witness after recovery = %+v, want checkpoints at seq 5 and 10", wl.Records)
		}
		if r := mustVerify(t, tr); r.String() != "verified 11 events up to seq 11, matching 2 witnessed seals" {
			t.Fatalf("Verify after recovery = %q", r)
		}
	})
}

// TestDeletedWitnessFileFailsTheCommit: appending to a witness file that was deleted while in
// use would keep nothing; the commit fails instead.
func TestDeletedWitnessFileFailsTheCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit-witness.jsonl")
	tr := mustTrail(t, mustSQLite(t), Options{CheckpointEvery: 2, Witness: mustFileWitness(t, path)})
	mustRecord(t, tr, 2)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// An event that seals nothing does not need the witness.
	if err := tr.Record(context.Background(), sampleEvent(3)); err != nil {
		t.Fatal(err)
	}
	err := tr.Record(context.Background(), sampleEvent(4))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrWitnessGone) {
		t.Fatalf("Record sealing a checkpoint with the witness file deleted = %v, want ErrUnavailable and ErrWitnessGone", err)
	}
}

// TestWitnessCatchUp: a witness started on an existing trail, or left behind by a crash
// between a commit and its witness write, is caught up at the next commit from the database's
// verified checkpoints; a warning says when the witness started empty.
func TestWitnessCatchUp(t *testing.T) {
	db := mustSQLite(t)
	key := mustKey(t)
	before := mustTrail(t, db, Options{Key: key, CheckpointEvery: 3})
	mustRecord(t, before, 7)
	before.Close()

	path := filepath.Join(t.TempDir(), "audit-witness.jsonl")
	var logs bytes.Buffer
	tr := mustTrail(t, db, Options{Key: key, CheckpointEvery: 3, Witness: mustFileWitness(t, path),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	mustRecord(t, tr, 1)
	wl := mustReadWitness(t, path)
	if len(wl.Records) != 2 || wl.Records[0].Seq != 3 || wl.Records[1].Seq != 6 {
		t.Fatalf("witness after catching up = %+v, want checkpoints at seq 3 and 6", wl.Records)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="audit: the witness holds no seals; it starts from the database's checkpoints as they stand"`) {
		t.Errorf("no warning that the witness started empty:\n%s", logs.String())
	}
	tr.Close()

	// A crash after the commit of checkpoint 3 and before its witness write.
	lines := witnessLines(t, path)
	restarted := mustTrail(t, db, Options{Key: key, CheckpointEvery: 3, Witness: mustFileWitness(t, path)})
	mustRecord(t, restarted, 1) // seq 9 seals checkpoint 3
	writeWitnessLines(t, path, lines)
	restarted.Close()
	again := mustTrail(t, db, Options{Key: key, CheckpointEvery: 3, Witness: mustFileWitness(t, path)})
	mustRecord(t, again, 1)
	if r := mustVerify(t, again); r.String() != "verified 10 events up to seq 10, matching 3 witnessed seals" {
		t.Fatalf("Verify after catching up a lagging witness = %q", r)
	}
}

// TestSealsAreLogged: the log pipeline receives a copy of every witnessed seal.
func TestSealsAreLogged(t *testing.T) {
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "audit-witness.jsonl")
	tr := mustTrail(t, mustSQLite(t), Options{CheckpointEvery: 2, Witness: mustFileWitness(t, path),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	mustRecord(t, tr, 4)
	wl := mustReadWitness(t, path)
	var seen int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, `"msg":"audit: seal witnessed"`) {
			continue
		}
		r := wl.Records[seen]
		for _, want := range []string{`"checkpoint":` + itoa(r.N), `"seq":` + itoa(r.Seq), `"hash":"` + r.Hash + `"`,
			`"mac":"` + r.MAC + `"`, `"kind":"periodic"`, `"at":"` + r.Time.Format(witnessTimeLayout) + `"`} {
			if !strings.Contains(line, want) {
				t.Errorf("log line %s lacks %s", line, want)
			}
		}
		seen++
	}
	if seen != 2 || len(wl.Records) != 2 {
		t.Fatalf("%d seal log lines for %d witnessed seals, want 2 of each:\n%s", seen, len(wl.Records), logs.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// sealedRecord is a well-formed record of checkpoint n, sealed under s.
func sealedRecord(s sealer, n int64) WitnessRecord {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	hash := strings.Repeat("ab", 32)
	return WitnessRecord{N: n, Kind: kindPeriodic, Seq: n * 10, Hash: hash, Time: at, KeyID: s.keyID,
		MAC: s.checkpointMAC(n, kindPeriodic, n*10, hash, at.UnixMilli())}
}

// mustAppendSealed appends the records of checkpoints from..to.
func mustAppendSealed(t *testing.T, fw *FileWitness, s sealer, from, to int64) {
	t.Helper()
	for n := from; n <= to; n++ {
		if err := fw.Append(context.Background(), sealedRecord(s, n)); err != nil {
			t.Fatal(err)
		}
	}
}

// appendRaw appends text to the file as it is, as a crash or damage leaves it.
func appendRaw(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestFileWitnessChainsRecords(t *testing.T) {
	s := newSealer(mustKey(t))
	path := filepath.Join(t.TempDir(), "w.jsonl")
	fw := mustFileWitness(t, path)
	mustAppendSealed(t, fw, s, 1, 3)
	// The same seal again (two processes catching up at once) is not written twice.
	if err := fw.Append(context.Background(), sealedRecord(s, 3)); err != nil {
		t.Fatal(err)
	}
	wl := mustReadWitness(t, path)
	if len(wl.Records) != 3 || len(wl.Notes) != 0 || wl.Absent {
		t.Fatalf("read back %+v", wl)
	}
	prev := GenesisHash
	for i, r := range wl.Records {
		if r.Prev != prev || r.Line != i+1 || r.N != int64(i+1) || !r.sameSeal(sealedRecord(s, r.N)) {
			t.Fatalf("record %d = %+v, want checkpoint %d naming %s", i, r, i+1, prev)
		}
		prev = r.Digest
	}
	if got := string(witnessLines(t, path)[0]); !strings.HasPrefix(got, `{"v":1,"n":1,"kind":"periodic","seq":10,"hash":"abab`) ||
		!strings.Contains(got, `"at":"2026-01-02T03:04:05.006Z"`) {
		t.Errorf("first line = %s", got)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("witness file mode = %v, %v", info.Mode(), err)
	}
}

// TestFileWitnessToleratesATornLine: a line cut short by a crash is reported, not fatal, and
// the next record starts on a new line naming the last whole record.
func TestFileWitnessToleratesATornLine(t *testing.T) {
	s := newSealer(mustKey(t))
	path := filepath.Join(t.TempDir(), "w.jsonl")
	fw := mustFileWitness(t, path)
	mustAppendSealed(t, fw, s, 1, 2)
	appendRaw(t, path, `{"v":1,"n":3,"kind":"peri`)
	wl := mustReadWitness(t, path)
	if len(wl.Records) != 2 || len(wl.Notes) != 1 || wl.Notes[0] != "line 3 was cut short (no line end: a write interrupted by a crash); skipped" {
		t.Fatalf("read a torn witness: %d records, notes %q", len(wl.Records), wl.Notes)
	}
	if err := fw.Append(context.Background(), sealedRecord(s, 3)); err != nil {
		t.Fatal(err)
	}
	wl = mustReadWitness(t, path)
	if len(wl.Records) != 3 || wl.Records[2].Line != 4 || wl.Records[2].Prev != wl.Records[1].Digest {
		t.Fatalf("after the torn line: %+v", wl.Records)
	}
	if len(wl.Notes) != 1 || wl.Notes[0] != "line 3 is not a witness record (not a JSON witness record); skipped" {
		t.Fatalf("notes %q", wl.Notes)
	}
}

func TestReadWitnessFileReportsHostileLines(t *testing.T) {
	s := newSealer(mustKey(t))
	good, err := sealedRecord(s, 1).withPrev(GenesisHash).encode()
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		string(good),
		strings.Replace(string(good), `"v":1`, `"v":2`, 1),
		strings.Replace(string(good), `}`, `,"extra":1}`, 1),
		string(good) + ` {}`,
		strings.Replace(string(good), `"kind":"periodic"`, `"kind":"weekly"`, 1),
		strings.Replace(string(good), `"at":"2026-01-02T03:04:05.006Z"`, `"at":"2026-01-02T04:04:05+01:00"`, 1),
		strings.Replace(string(good), `"hash":"abab`, `"hash":"ABAB`, 1),
		strings.Repeat("x", 5000),
		"",
	}
	path := filepath.Join(t.TempDir(), "w.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wl := mustReadWitness(t, path)
	want := []string{
		"line 2 is not a witness record (unknown record version 2); skipped",
		"line 3 is not a witness record (not a JSON witness record); skipped",
		"line 4 is not a witness record (data after the record); skipped",
		`line 5 is not a witness record (audit: witness record: unknown checkpoint kind "weekly"); skipped`,
		"line 6 is not a witness record (the sealing time is not UTC with milliseconds); skipped",
		"line 7 is not a witness record (audit: witness record: the hash is not a SHA-256 hex digest); skipped",
		"line 8 is longer than any record; skipped",
		"line 9 is not a witness record (not a JSON witness record); skipped",
	}
	if len(wl.Records) != 1 || strings.Join(wl.Notes, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d records, notes:\n%s\nwant:\n%s", len(wl.Records), strings.Join(wl.Notes, "\n"), strings.Join(want, "\n"))
	}
}

func (r WitnessRecord) withPrev(p string) WitnessRecord { r.Prev = p; return r }

// TestFileWitnessFindsTheLastRecordAcrossBlocks: the append reads the file backwards in
// blocks; the last record is found past a long damaged tail that spans blocks.
func TestFileWitnessFindsTheLastRecordAcrossBlocks(t *testing.T) {
	s := newSealer(mustKey(t))
	path := filepath.Join(t.TempDir(), "w.jsonl")
	fw := mustFileWitness(t, path)
	mustAppendSealed(t, fw, s, 1, 100)
	appendRaw(t, path, strings.Repeat("garbage ", 5000)+"\n"+strings.Repeat("y", 3000))
	if err := fw.Append(context.Background(), sealedRecord(s, 101)); err != nil {
		t.Fatal(err)
	}
	wl := mustReadWitness(t, path)
	if len(wl.Records) != 101 || wl.Records[100].Prev != wl.Records[99].Digest {
		t.Fatalf("%d records; the last names %s, want %s", len(wl.Records), wl.Records[len(wl.Records)-1].Prev, wl.Records[99].Digest)
	}
}

// TestFileWitnessSharedByProcesses: two handles on one file (as two processes hold) append
// concurrently and the records still form one chain, because each append holds the file lock.
func TestFileWitnessSharedByProcesses(t *testing.T) {
	s := newSealer(mustKey(t))
	path := filepath.Join(t.TempDir(), "w.jsonl")
	a, b := mustFileWitness(t, path), mustFileWitness(t, path)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i, w := range []*FileWitness{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := int64(1); n <= 100; n++ {
				errs <- w.Append(context.Background(), sealedRecord(s, 1000*int64(i+1)+n))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wl := mustReadWitness(t, path)
	if len(wl.Records) != 200 || len(wl.Notes) != 0 {
		t.Fatalf("%d records, notes %q", len(wl.Records), wl.Notes)
	}
	prev := GenesisHash
	for _, r := range wl.Records {
		if r.Prev != prev {
			t.Fatalf("line %d does not name the line before it", r.Line)
		}
		prev = r.Digest
	}
}

func TestFileWitnessRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenFileWitness(dir); err == nil {
		t.Error("a directory was accepted as the witness file")
	}
	if _, err := OpenFileWitness(filepath.Join(dir, "missing", "w.jsonl")); err == nil {
		t.Error("a witness in a directory that does not exist was accepted")
	}
	if _, err := OpenFileWitness(""); err == nil {
		t.Error("an empty witness file name was accepted")
	}
	fw := mustFileWitness(t, filepath.Join(dir, "w.jsonl"))
	s := newSealer(mustKey(t))
	bad := sealedRecord(s, 1)
	bad.Hash = "not a hash"
	if err := fw.Append(context.Background(), bad); err == nil {
		t.Error("a record with a malformed hash was appended")
	}
	if wl := mustReadWitness(t, fw.Path()); len(wl.Records) != 0 || len(wl.Notes) != 0 {
		t.Errorf("a refused record left %+v", wl)
	}
}

// TestWitnessGapLeftByACrashedProcessIsFilled: a process that commits a checkpoint and dies
// before its witness write leaves a gap that no restart of its own fills; the next seal, made
// by another process, hands the witness the previous checkpoint again and closes the gap.
func TestWitnessGapLeftByACrashedProcessIsFilled(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		key := mustKey(t)
		path := filepath.Join(t.TempDir(), "audit-witness.jsonl")
		doomed := &flakyWitness{FileWitness: mustFileWitness(t, path)}
		a := mustTrail(t, db, Options{Key: key, CheckpointEvery: 5, Witness: doomed})
		b := mustTrail(t, db, Options{Key: key, CheckpointEvery: 5, Witness: mustFileWitness(t, path)})
		mustRecord(t, a, 6)
		mustRecord(t, b, 3)
		doomed.broken.Store(true)
		if err := a.Record(context.Background(), sampleEvent(99)); !errors.Is(err, errWitnessDown) {
			t.Fatalf("the seal of checkpoint 2 reached the witness: %v", err)
		}
		a.Close()
		if wl := mustReadWitness(t, path); len(wl.Records) != 1 {
			t.Fatalf("witness before the next seal = %+v, want only checkpoint 1", wl.Records)
		}
		mustRecord(t, b, 5)
		wl := mustReadWitness(t, path)
		var seqs []int64
		for _, r := range wl.Records {
			seqs = append(seqs, r.Seq)
		}
		if len(seqs) != 3 || seqs[0] != 5 || seqs[1] != 10 || seqs[2] != 15 {
			t.Fatalf("witness seals seqs %v, want 5, 10 and 15", seqs)
		}
		if r := mustVerify(t, b); r.String() != "verified 15 events up to seq 15, matching 3 witnessed seals" {
			t.Fatalf("Verify = %q", r)
		}
	})
}
