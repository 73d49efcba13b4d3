package audit

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"ctpdesk/store"
)

// Environment of a child process started by TestTwoProcesses: the test binary re-executes
// itself and TestMain turns it into a second writer instead of running tests.
const (
	childURLEnv     = "CTPDESK_AUDIT_TEST_CHILD_URL"
	childKeyEnv     = "CTPDESK_AUDIT_TEST_CHILD_KEY"
	childWritersEnv = "CTPDESK_AUDIT_TEST_CHILD_WRITERS"
	childEachEnv    = "CTPDESK_AUDIT_TEST_CHILD_EACH"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(childURLEnv); url != "" {
		if err := runChild(url); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild appends writers*each events from concurrent goroutines, as a second replica would.
func runChild(url string) error {
	key, err := hex.DecodeString(os.Getenv(childKeyEnv))
	if err != nil {
		return err
	}
	writers, _ := strconv.Atoi(os.Getenv(childWritersEnv))
	each, _ := strconv.Atoi(os.Getenv(childEachEnv))
	db, err := openForChild(url)
	if err != nil {
		return err
	}
	defer db.Close()
	tr, err := New(db, Options{Key: key, CheckpointEvery: 37, RecordTimeout: contendedRecordTimeout})
	if err != nil {
		return err
	}
	defer tr.Close()
	// One event tells the parent this process is ready; then both start on the parent's word.
	if err := tr.Record(context.Background(), sampleEvent(1_000_000+writers*each)); err != nil {
		return err
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	return appendConcurrently(tr, writers, each, 1_000_000)
}

// appendConcurrently runs writers goroutines that each record `each` events, numbering their
// request ids from base so two processes never produce the same id. Each writer pauses
// briefly between events, as requests do; without pauses one SQLite process can finish a
// whole burst while the other sleeps in its busy handler, and the test would not overlap.
func appendConcurrently(tr *Trail, writers, each, base int) error {
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := tr.Record(context.Background(), sampleEvent(base+w*each+i)); err != nil {
					errs <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// TestTwoProcesses: this process and a child process, each with many goroutines and its own
// connection pool, append to one database at the same time; the result is one valid chain
// with exactly the expected number of events.
func TestTwoProcesses(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { twoProcesses(t, "sqlite:"+t.TempDir()+"/shared.db") })
	t.Run("postgres", func(t *testing.T) { twoProcesses(t, mustPostgresURL(t)) })
}

// contendedRecordTimeout replaces the 1 s bound on a commit's wait in the tests of two
// processes contending for one database: they prove that no event is lost or doubled, and on
// a busy machine under the race detector a fair wait for the write lock takes longer than a
// request would be allowed to wait.
const contendedRecordTimeout = time.Minute

func twoProcesses(t *testing.T, url string) {
	const writers, each = 32, 25
	db := mustOpen(t, url)
	key := mustKey(t)
	tr := mustTrail(t, db, Options{Key: key, CheckpointEvery: 37, RecordTimeout: contendedRecordTimeout})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childURLEnv+"="+url, childKeyEnv+"="+hex.EncodeToString(key),
		childWritersEnv+"="+strconv.Itoa(writers), childEachEnv+"="+strconv.Itoa(each))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Both processes start writing together once the child is ready, so they really overlap.
	deadline := time.Now().Add(30 * time.Second)
	for countChild(t, db) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := io.WriteString(start, "go\n"); err != nil {
		t.Fatal(err)
	}
	parentErr := appendConcurrently(tr, writers, each, 0)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child process: %v", err)
	}
	if parentErr != nil {
		t.Fatal(parentErr)
	}
	want := int64(2*writers*each + 1)
	if n := mustCount(t, db); n != want {
		t.Fatalf("stored %d events, want %d", n, want)
	}
	if children := countChild(t, db); children != want/2+1 {
		t.Fatalf("%d events from the child process, want %d", children, want/2+1)
	}
	s := switches(t, db)
	t.Logf("the writer changed between the processes %d times along the chain", s)
	// How often the writers alternate depends on the machine's scheduling: both start
	// together, but on a busy machine one may get most of its writes in first. The chain and
	// the counts above are what must hold however they interleave.
	if s < 2 {
		t.Logf("the processes barely overlapped this run (%d switches); the counts and the chain still had to hold", s)
	}
	r := mustVerify(t, tr)
	if r.String() != fmt.Sprintf("verified %d events up to seq %d", want, want) || r.Checkpoints != int(want/37) {
		t.Fatalf("Verify = %q with %d checkpoints", r, r.Checkpoints)
	}
}

// countChild counts the events written by the child process (request ids from 1,000,000).
func countChild(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow("SELECT COUNT(*) FROM audit_events WHERE request_id LIKE 'req-1______'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// switches counts how often, in seq order, the writer changes between parent and child.
func switches(t *testing.T, db *store.DB) int {
	t.Helper()
	rows, err := db.Query("SELECT request_id FROM audit_events ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, last := 0, ""
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		who := "parent"
		if len(id) == len("req-1000000") {
			who = "child"
		}
		if last != "" && who != last {
			n++
		}
		last = who
	}
	return n
}
