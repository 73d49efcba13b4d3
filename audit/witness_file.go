package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrWitnessGone is returned by FileWitness.Append when the file it was opened on has been
// deleted or replaced: appending to the old inode would keep nothing anyone can read.
var ErrWitnessGone = errors.New("audit: witness file was deleted or replaced")

// FileWitness is a witness kept as an append-only file of JSON lines, one record per sealed
// checkpoint, each naming the SHA-256 of the line before it. In production the file lives on
// storage apart from the database (ideally storage that only allows appending, such as a
// volume with the append-only attribute). Several processes may share one file: each append
// holds an exclusive advisory lock on it.
type FileWitness struct {
	path string
	mu   sync.Mutex // orders this process's appends; the file lock orders processes
	f    *os.File
}

// OpenFileWitness opens the witness file at path for appending, creating it (and syncing its
// directory, so the new name survives a crash) when it does not exist yet.
func OpenFileWitness(path string) (*FileWitness, error) {
	if path == "" {
		return nil, errors.New("audit: witness: no file name")
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: witness: %w", err)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err == nil && errors.Is(statErr, fs.ErrNotExist) {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: witness: %w", err)
	}
	return &FileWitness{path: path, f: f}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Path is the witness file's name.
func (w *FileWitness) Path() string { return w.path }

// Close closes the file.
func (w *FileWitness) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// Append writes r after the last record in the file, naming that record's digest, and syncs
// the file before it returns. A record equal to the last one is not written twice (two
// processes catching up the same checkpoint). If the file ends in a line cut short by a crash,
// the record starts on a new line and names the last whole record, leaving the cut line as it
// is: nothing already in the file is ever rewritten.
func (w *FileWitness) Append(_ context.Context, r WitnessRecord) error {
	if err := r.checkShape(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	fd := int(w.f.Fd())
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return fmt.Errorf("audit: witness: lock %s: %w", w.path, err)
	}
	defer func() { _ = unix.Flock(fd, unix.LOCK_UN) }()
	if err := w.stillAtPath(); err != nil {
		return err
	}
	t, err := lastRecord(w.f)
	if err != nil {
		return fmt.Errorf("audit: witness: read %s: %w", w.path, err)
	}
	if t.found && t.last.sameSeal(r) {
		return nil
	}
	r.Prev = GenesisHash
	if t.found {
		r.Prev = t.last.Digest
	}
	line, err := r.encode()
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(line)+2)
	if !t.endsWithNewline {
		buf = append(buf, '\n')
	}
	buf = append(append(buf, line...), '\n')
	if _, err := w.f.Write(buf); err != nil {
		return fmt.Errorf("audit: witness: write %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("audit: witness: sync %s: %w", w.path, err)
	}
	return nil
}

// stillAtPath checks that the path still names the open file.
func (w *FileWitness) stillAtPath() error {
	open, err := w.f.Stat()
	if err != nil {
		return fmt.Errorf("audit: witness: %w", err)
	}
	named, err := os.Stat(w.path)
	if err != nil || !os.SameFile(open, named) {
		return fmt.Errorf("%w: %s", ErrWitnessGone, w.path)
	}
	return nil
}

// Read reads the file by its name, so a deleted or replaced witness shows as such.
func (w *FileWitness) Read(_ context.Context) (WitnessLog, error) {
	return ReadWitnessFile(w.path)
}

// ReadWitnessFile reads a witness file. A missing file is a WitnessLog with Absent set, not
// an error: verification then reports what the missing witness should have held. An error
// means the file exists but could not be read.
func ReadWitnessFile(path string) (WitnessLog, error) {
	log := WitnessLog{Source: path}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		log.Absent = true
		return log, nil
	}
	if err != nil {
		return WitnessLog{}, fmt.Errorf("audit: witness: %w", err)
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, 64<<10)
	for lineNo := 1; ; lineNo++ {
		line, complete, err := readLine(rd)
		if err != nil {
			return WitnessLog{}, fmt.Errorf("audit: witness: read %s: %w", path, err)
		}
		if line == nil && complete {
			break
		}
		if line == nil {
			log.Notes = append(log.Notes, fmt.Sprintf("line %d is longer than any record; skipped", lineNo))
			continue
		}
		r, perr := parseWitnessLine(line)
		switch {
		case perr == nil:
			r.Line = lineNo
			log.Records = append(log.Records, r)
		case !complete:
			log.Notes = append(log.Notes, fmt.Sprintf("line %d was cut short (no line end: a write interrupted by a crash); skipped", lineNo))
		default:
			log.Notes = append(log.Notes, fmt.Sprintf("line %d is not a witness record (%v); skipped", lineNo, perr))
		}
		if !complete {
			break
		}
	}
	return log, nil
}

// readLine reads one line without its line end. It returns complete == false for a last line
// with no line end, a nil line with complete == true at the end of the file, and a nil line
// with complete == false for a line longer than maxWitnessLine (which it skips).
func readLine(rd *bufio.Reader) (line []byte, complete bool, err error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := rd.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > maxWitnessLine+1 {
				tooLong, buf = true, nil
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return nil, false, nil
			}
			return buf[:len(buf)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if tooLong {
				return nil, false, nil
			}
			if len(buf) == 0 {
				return nil, true, nil
			}
			return buf, false, nil
		default:
			return nil, false, err
		}
	}
}

// tail is what an append needs to know about the end of the file.
type tail struct {
	last            WitnessRecord
	found           bool
	endsWithNewline bool
}

// lastRecord finds the last well-formed record by reading the file backwards a block at a
// time, so an append costs the same however long the witness has grown.
func lastRecord(f *os.File) (tail, error) {
	info, err := f.Stat()
	if err != nil {
		return tail{}, err
	}
	size := info.Size()
	t := tail{endsWithNewline: true}
	if size == 0 {
		return t, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return tail{}, err
	}
	t.endsWithNewline = last[0] == '\n'
	const block = 16 << 10
	// carry is the first piece of the block read last: the end part of a line that may start
	// in an earlier block. A piece longer than any record is kept only long enough to stay
	// longer than any record.
	var carry []byte
	for end := size; end > 0; {
		start := max(0, end-block)
		buf := make([]byte, end-start, end-start+int64(len(carry)))
		if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
			return tail{}, err
		}
		buf = append(buf, carry...)
		pieces := bytes.Split(buf, []byte{'\n'})
		// Every piece but the first is a whole line; the first is whole only at the start of
		// the file.
		first := 1
		if start == 0 {
			first = 0
		}
		for i := len(pieces) - 1; i >= first; i-- {
			if len(pieces[i]) == 0 {
				continue
			}
			if r, err := parseWitnessLine(pieces[i]); err == nil {
				t.last, t.found = r, true
				return t, nil
			}
		}
		carry = pieces[0]
		if len(carry) > maxWitnessLine {
			carry = carry[:maxWitnessLine+1]
		}
		end = start
	}
	return t, nil
}
