package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/syncbuf"

	"ctpdesk/internal/config"
)

// syncBuffer is safe for the writers of a running program and the test's readers at once.
type syncBuffer = syncbuf.Buffer

// serveOnly builds an App around handler alone, to test what Serve does with connections and
// requests; the components New opens are tested through the whole program in e2e/.
func serveOnly(t *testing.T, grace time.Duration, handler http.Handler) (*App, net.Listener, *syncBuffer) {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"CTPDESK_ADDR": "127.0.0.1:0", "CTPDESK_SHUTDOWN_GRACE": grace.String()}[k]
	}, config.ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	a := &App{cfg: cfg, opts: Options{Stdout: logs, Log: slog.New(slog.NewJSONHandler(logs, nil))}, handler: handler}
	return a, ln, logs
}

func TestGracefulShutdownDrainsAnInFlightRequest(t *testing.T) {
	inRequest := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inRequest)
		time.Sleep(time.Second)
		w.WriteHeader(http.StatusOK)
	})
	a, ln, _ := serveOnly(t, 20*time.Second, slow)
	closed := false
	a.onClose(func() error { closed = true; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()

	type result struct {
		status int
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		resp.Body.Close()
		got <- result{status: resp.StatusCode}
	}()
	<-inRequest
	cancel() // what SIGTERM does
	// The listener closes before Shutdown waits for the request; poll for it to refuse.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Error("the server still accepts new connections during shutdown")
	}
	r := <-got
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight request: status %d, error %v; want 200", r.status, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("clean stop returned %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after the in-flight request finished")
	}
	if !closed {
		t.Error("components were not closed at shutdown")
	}
}

// A pooling client or proxy often holds a connection it never sends a request on. net/http
// would wait five seconds before treating it as idle; with a shorter grace the stop would fail.
// Shutdown must see that no request is in flight and stop cleanly within the grace.
func TestShutdownIsNotHeldByAnUnusedConnection(t *testing.T) {
	a, ln, logs := serveOnly(t, 2*time.Second, http.NotFoundHandler())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	for !strings.Contains(logs.String(), "listening on") {
		time.Sleep(10 * time.Millisecond)
	}
	idle, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// Give the server a moment to accept the connection, so the stop has it to deal with.
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("stop with only an unused connection open: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestTheStartLineNamesTheURLToOpen(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	dev, _ := url.Parse("http://localhost:8080")
	if got := listeningOn(dev, addr); got != "http://localhost:8080" {
		t.Errorf("dev: %q, want only the public URL", got)
	}
	prod, _ := url.Parse("https://ctpdesk.bank.example")
	if got := listeningOn(prod, addr); got != "http://127.0.0.1:8080 (public URL https://ctpdesk.bank.example)" {
		t.Errorf("behind a proxy: %q", got)
	}
}
