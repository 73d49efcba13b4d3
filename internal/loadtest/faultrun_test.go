package loadtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shortFaultTimings compress the fault sequence to seconds; with the breaker's open time cut
// to its 1 s minimum, the breaker still has time to open during the outage and close during
// the slow answers.
var shortFaultTimings = faultTimings{
	Warmup: 2 * time.Second, Healthy: 2 * time.Second, Errors: 3 * time.Second,
	Down: 3 * time.Second, Slow: 4 * time.Second, Recovered: 3 * time.Second, Settle: 20 * time.Second,
}

// TestFaultRun is the fault run in short form: while virtual users search and open customer
// pages, D1 answers 20 % of calls with 503, then refuses every connection, then answers in
// 2 s, then recovers. No answer may be a 5xx, searches and issuer records must keep coming in
// every phase, the breaker must open and close again, every directory column must say what
// happened, the audit trail must be exact, and goroutines and sockets must come back to their
// starting level. Latency budgets are not asserted here (see TestLoadShort).
func TestFaultRun(t *testing.T) {
	if testing.Short() {
		t.Skip("fault run: skipped with -short")
	}
	dir := t.TempDir()
	logFile, err := os.Create(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := runLoad(ctx, loadOptions{
		Users: 16, Customers: 2000, Fault: true, Timings: shortFaultTimings,
		DataDir: dir, Log: logFile,
		// A one-second cache makes most cached answers old enough to be served stale while
		// D1 fails, so the stale label is exercised as well as the unavailable one.
		Env: map[string]string{"CTPDESK_D1_BREAKER_OPEN": "1s", "CTPDESK_D1_CACHE_TTL": "1s", "CTPDESK_LOG_LEVEL": "warn"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	printLoadResult(&out, res)
	t.Log("\n" + out.String())
	for _, c := range res.Failed() {
		t.Errorf("%s: %s", c.Name, c.Detail)
	}
	if len(res.Phases) != 6 {
		t.Fatalf("%d phases reported, want warm-up and the five fault phases", len(res.Phases))
	}
	down := res.Phases[3]
	if down.Name != "down" || down.Unavailable == 0 || down.Stale == 0 {
		t.Errorf("phase %q showed %d unavailable and %d stale columns; the outage should produce both",
			down.Name, down.Unavailable, down.Stale)
	}
}
