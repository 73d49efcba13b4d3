package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Serve runs the dashboard on ln until ctx is cancelled, then stops accepting connections,
// lets in-flight requests finish within CTPDESK_SHUTDOWN_GRACE and closes every component.
// A clean stop returns nil. Serve consumes the App: it is closed when Serve returns.
func (a *App) Serve(ctx context.Context, ln net.Listener) (err error) {
	defer func() {
		if cerr := a.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	log := a.opts.Log
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	conns := newConnTracker()
	srv.ConnState = conns.hook
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintln(a.opts.Stdout, "ctpdesk: listening on "+listeningOn(a.cfg.PublicURL, ln.Addr()))
	log.Info("ctpdesk started", slog.String("version", a.opts.Version), slog.Any("config", a.cfg))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	grace := a.cfg.ShutdownGrace
	log.Info("shutting down: draining in-flight requests", slog.Duration("grace", grace))
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// While Shutdown waits for requests in flight, close the connections that clients opened
	// and never used: they carry no request, and net/http alone would wait for them.
	stopSweep := make(chan struct{})
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSweep:
				return
			case <-tick.C:
				conns.closeUnused(500 * time.Millisecond)
			}
		}
	}()
	err = srv.Shutdown(sctx)
	close(stopSweep)
	if err != nil {
		inFlight := conns.active()
		srv.Close()
		return fmt.Errorf("shutdown: %d request(s) still in flight after CTPDESK_SHUTDOWN_GRACE (%s): %w", inFlight, grace, err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("ctpdesk stopped")
	return nil
}

// Close releases every component without serving, for a caller that built an App and then
// decided not to run it.
func (a *App) Close() error { return a.close() }

// listeningOn is the address the start-up line names: the public URL itself when it is plain
// http on the port just bound (dev: the one URL to open), or else the bound address with the
// public URL beside it.
func listeningOn(public *url.URL, addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	if public.Scheme == "http" && public.Port() == port {
		return public.String()
	}
	return fmt.Sprintf("http://%s (public URL %s)", addr, public)
}
