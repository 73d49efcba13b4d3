package e2e_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/syncbuf"

	"ctpdesk/internal/cli"
)

// syncBuffer is safe for the writers of a running program and the test's readers at once.
type syncBuffer = syncbuf.Buffer

// testApp is the whole ctpdesk program running in-process through run(), as `ctpdesk CMD`
// would, on loopback ports chosen by the kernel.
type testApp struct {
	URL    string // the dashboard's base URL, e.g. http://127.0.0.1:43121
	Stdout *syncBuffer
	Stderr *syncBuffer
	Env    map[string]string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

var listeningRE = regexp.MustCompile(`ctpdesk: listening on (http://\S+)`)

// startApp runs `ctpdesk cmd` with env over a set of test defaults (loopback port 0, a fresh
// data directory) and waits until it serves. The app is stopped when the test ends.
func startApp(tb testing.TB, cmd string, env map[string]string) *testApp {
	tb.Helper()
	full := map[string]string{
		"CTPDESK_ADDR":     "127.0.0.1:0",
		"CTPDESK_DATA_DIR": tb.TempDir(),
	}
	if cmd == "dev" {
		full["CTPDESK_SANDBOX_ADDR"] = "127.0.0.1:0"
		full["CTPDESK_DEVIDP_ADDR"] = "127.0.0.1:0"
		full["CTPDESK_DEV_CUSTOMERS"] = "500"
	}
	for k, v := range underLoad {
		full[k] = v
	}
	for k, v := range env {
		full[k] = v
	}
	getenv := func(k string) string { return full[k] }
	ctx, cancel := context.WithCancel(context.Background())
	a := &testApp{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Env: full, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- cli.Run(ctx, []string{"ctpdesk", cmd}, getenv, a.Stdout, a.Stderr) }()
	deadline := time.Now().Add(120 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(a.Stdout.String()); m != nil {
			a.URL = m[1]
			break
		}
		select {
		case err := <-a.done:
			cancel()
			tb.Fatalf("ctpdesk %s exited before serving: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, a.Stdout, a.Stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			tb.Fatalf("ctpdesk %s did not start serving in time\nstdout:\n%s\nstderr:\n%s", cmd, a.Stdout, a.Stderr)
		}
	}
	tb.Cleanup(func() {
		if err := a.Stop(); err != nil {
			tb.Errorf("ctpdesk %s did not stop cleanly: %v", cmd, err)
		}
	})
	return a
}

// Stop cancels the app's context, as SIGTERM does, and returns what run returned.
func (a *testApp) Stop() error {
	a.once.Do(func() {
		a.cancel()
		select {
		case a.err = <-a.done:
		case <-time.After(60 * time.Second):
			a.err = errors.New("run did not return within 60s of cancellation")
		}
	})
	return a.err
}

// get fetches path from the app with optional headers.
func (a *testApp) get(tb testing.TB, path string, headers ...string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp, string(body)
}
