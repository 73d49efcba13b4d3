package e2e_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ctpdesk/internal/cli"
	"ctpdesk/internal/config"
	"ctpdesk/store"
)

// scanChildEnv makes the test binary, re-executed by TestScanSurvivesSIGKILL, run
// `ctpdesk scan` with the arguments in scanChildArgs as a separate process that can be killed.
const (
	scanChildEnv  = "CTPDESK_TEST_SCAN_CHILD"
	scanChildArgs = "CTPDESK_TEST_SCAN_ARGS"
)

// TestScanChild is not a test: it is the scanning process of TestScanSurvivesSIGKILL.
func TestScanChild(t *testing.T) {
	if os.Getenv(scanChildEnv) != "1" {
		t.Skip("helper process for TestScanSurvivesSIGKILL")
	}
	args := append([]string{"ctpdesk", "scan"}, strings.Fields(os.Getenv(scanChildArgs))...)
	if err := cli.Run(context.Background(), args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

var scanProgressRE = regexp.MustCompile(`^scan (\d+): (\d+)/(\d+) customers`)

// scanProcess runs `ctpdesk scan args` on dataDir and calls line for every line it prints.
func scanProcess(t *testing.T, dataDir, args string, line func(string)) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestScanChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), scanChildEnv+"=1", scanChildArgs+"="+args,
		"CTPDESK_DATA_DIR="+dataDir, "CTPDESK_SANDBOX_ADDR=127.0.0.1:0", "CTPDESK_DEV_CUSTOMERS=1200",
		"CTPDESK_SCAN_RATE=150", "CTPDESK_SCAN_CHUNK=40", "CTPDESK_SCAN_JOB_TIMEOUT=1s", "CTPDESK_LOG_LEVEL=error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line(sc.Text())
		}
	}()
	return cmd
}

// scanTotals reads a scan's totals back from the dashboard database: what its chunks count,
// and how many result rows it holds.
type scanTotals struct {
	state                        string
	stored, rows, distinct       int
	customers                    int
	chunksNotDone, customersRisk int
}

func readScanTotals(t *testing.T, db *store.DB, id int64) scanTotals {
	t.Helper()
	var s scanTotals
	q := func(query string, dest ...any) {
		t.Helper()
		if err := db.QueryRow(db.Rebind(query), id).Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q("SELECT state, customers_total FROM scans WHERE id = ?", &s.state, &s.customers)
	q("SELECT coalesce(sum(stored), 0), count(*) - coalesce(sum(done), 0) FROM scan_chunks WHERE scan_id = ?", &s.stored, &s.chunksNotDone)
	q("SELECT count(*), count(DISTINCT customer_id) FROM scan_results WHERE scan_id = ?", &s.rows, &s.distinct)
	q("SELECT count(*) FROM scan_results WHERE scan_id = ? AND risks > 0", &s.customersRisk)
	return s
}

// TestScanSurvivesSIGKILL kills `ctpdesk scan` mid-scan; a second process picks the scan up
// (River hands the dead process's jobs back), and at the end every customer is counted exactly
// once, with the same totals as an uninterrupted scan of the same portfolio.
func TestScanSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills scan processes")
	}
	const customers = 1200
	dir := t.TempDir()
	killAt := make(chan int, 1)
	first := scanProcess(t, dir, "", func(l string) {
		if m := scanProgressRE.FindStringSubmatch(l); m != nil {
			if done, _ := strconv.Atoi(m[2]); done >= customers/4 {
				select {
				case killAt <- done:
				default:
				}
			}
		}
	})
	select {
	case done := <-killAt:
		if err := first.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = first.Wait()
		t.Logf("killed the scan with %d of %d customers done", done, customers)
	case <-time.After(3 * time.Minute):
		t.Fatal("the scan never got a quarter of the way")
	}
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, config.DevDashboardDBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if mid := readScanTotals(t, db, 1); mid.state != "running" || mid.stored >= customers {
		t.Fatalf("after the kill: %+v, want a running scan part of the way", mid)
	}

	summary := scanToTheEnd(t, dir, "--resume 1", 1)
	got := readScanTotals(t, db, 1)
	if got.state != "finished" || got.stored != customers || got.rows != customers || got.distinct != customers ||
		got.customers != customers || got.chunksNotDone != 0 {
		t.Fatalf("totals after kill and resume: %+v, want each of %d customers once (%s)", got, customers, summary)
	}

	// The same portfolio scanned without interruption gives the same counts.
	scanToTheEnd(t, dir, "", 2)
	want := readScanTotals(t, db, 2)
	if got.customersRisk != want.customersRisk || want.rows != customers {
		t.Errorf("customers with risks: %d after the crash, %d in a clean scan", got.customersRisk, want.customersRisk)
	}
}

// scanToTheEnd runs `ctpdesk scan args` until it prints scan id's summary, and returns it.
func scanToTheEnd(t *testing.T, dir, args string, id int) string {
	t.Helper()
	prefix := "scan " + strconv.Itoa(id) + " finished:"
	lines := make(chan string, 1)
	cmd := scanProcess(t, dir, args, func(l string) {
		if strings.HasPrefix(l, prefix) {
			lines <- l
		}
	})
	select {
	case l := <-lines:
		_ = cmd.Wait()
		return l
	case <-time.After(4 * time.Minute):
		t.Fatalf("ctpdesk scan %s did not finish scan %d", args, id)
		return ""
	}
}
