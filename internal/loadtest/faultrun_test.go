package loadtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shortFaultTimings compress the fault sequence to seconds. The phases end on their events
// (the breaker open, the probes answered, the breaker closed again), so a slow machine makes
// the run longer, not wrong.
var shortFaultTimings = faultTimings{
	Warmup: 2 * time.Second, Healthy: 2 * time.Second, Errors: 3 * time.Second,
	Down: 3 * time.Second, Slow: 4 * time.Second, Recovered: 3 * time.Second,
	Event: 90 * time.Second, Settle: 20 * time.Second,
}

// TestFaultRun is the fault run in short form: while virtual users search and open customer
// pages, D1 answers 20 % of calls with 503, then refuses every connection, then answers in
// 2 s, then recovers. No answer may be a 5xx, searches and issuer records must keep coming in
// every phase, the breaker must open and close again, the outage must show a stale and an
// unavailable comparison, every directory column must say what happened, the audit trail must
// be exact, and goroutines and sockets must come back to their starting level. Latency
// budgets are not asserted here (see TestLoadShort).
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
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	res, err := runLoad(ctx, loadOptions{
		Users: 16, Customers: 2000, Fault: true, Timings: shortFaultTimings,
		DataDir: dir, Log: logFile,
		// The breaker's shortest open time lets it open and close within seconds; the
		// shortest cache TTL keeps the outage's wait for a stale entry short.
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
	if res.Phases[3].Name != "down" {
		t.Errorf("phase 3 is %q, want the outage", res.Phases[3].Name)
	}
}

// TestDropIdleClosesParkedConnections: a connection that was dialed and never carried a
// request (the spare a waiting transport parks) must not read as a request in flight when the
// load stops, while a request really in flight still does.
func TestDropIdleClosesParkedConnections(t *testing.T) {
	release := make(chan struct{})
	front, err := newD1Front(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer front.close()
	parked, err := net.Dial("tcp", front.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer parked.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := front.dropIdle(ctx); err != nil {
		t.Fatalf("a parked connection counted as a request in flight: %v", err)
	}
	_ = parked.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := parked.Read(make([]byte, 1)); err == nil {
		t.Error("the parked connection is still open after dropIdle")
	}
	if resp, err := http.Get(front.URL() + "/ping"); err != nil {
		t.Fatalf("the front does not answer after dropIdle: %v", err)
	} else {
		resp.Body.Close()
	}

	held := make(chan error, 1)
	go func() {
		resp, err := http.Get(front.URL() + "/hold")
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	time.Sleep(200 * time.Millisecond)
	short, cancelShort := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancelShort()
	if err := front.dropIdle(short); err == nil {
		t.Error("a request in flight was not reported")
	}
	close(release)
	<-held
}
