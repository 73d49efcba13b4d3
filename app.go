package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"ctpdesk/auth"
	"ctpdesk/handlers"
	"ctpdesk/metrics"
	"ctpdesk/static"
	"ctpdesk/store"

	"github.com/labstack/echo/v4"
)

// app is one running dashboard: its configuration, its logger, the components it opened and
// the HTTP handler built from them. runDev and runServe build it differently and serve it alike.
type app struct {
	cfg     Config
	log     *slog.Logger
	env     *environment
	deps    handlers.Deps
	authz   func(handlers.Route) []echo.MiddlewareFunc
	closers []func() error
	// metrics collects what /metrics exposes; every component reports into it.
	metrics *metrics.Metrics
	// db is the dashboard's own database (sessions, audit trail), opened by dashboardDB.
	db *store.DB
	// sessions is the session store built by wireAuth; the load test signs its virtual users
	// in through it.
	sessions *auth.SessionStore
	// dev holds what the embedded components of `ctpdesk dev` hand each other (the sandbox's
	// URL and key, the development IdP's issuer); nil under `ctpdesk serve`.
	dev *devParts
}

// devParts is filled by the dev-mode wiring steps in the order they run.
type devParts struct {
	SandboxURL string // base URL of the embedded D1 sandbox, e.g. http://127.0.0.1:8090
	IDPIssuer  string // issuer URL of the development OpenID Provider
}

// newLogger writes JSON lines at level to w.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// listen binds the dashboard's address before anything else is built, so that in dev mode the
// public URL (and with it the OIDC redirect URL) can name the real port even when the
// configured one is 0.
func listen(cfg *Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on CTPDESK_ADDR %s: %w", cfg.Addr, err)
	}
	if cfg.PublicURL == nil {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		if host == "" || host == "0.0.0.0" || host == "::" || cfg.Addr == defaultDevAddr {
			// The README sends people to http://localhost:8080; cookies are per host name, so the
			// public URL must use the same name the browser does.
			host = "localhost"
		}
		cfg.PublicURL = &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
	}
	return ln, nil
}

// defaultDevAddr is CTPDESK_ADDR's default.
const defaultDevAddr = "127.0.0.1:8080"

// onClose registers fn to run when the app stops, in reverse order of registration.
func (a *app) onClose(fn func() error) { a.closers = append(a.closers, fn) }

func (a *app) close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// serve runs the dashboard on ln until ctx is cancelled, then stops accepting connections,
// lets in-flight requests finish within the grace period and closes every component. A clean
// stop returns nil.
func (a *app) serve(ctx context.Context, ln net.Listener) (err error) {
	defer func() {
		if cerr := a.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if a.authz == nil {
		// Without the guard no route would check who is asking: refuse to serve at all.
		return errors.New("sign-in is not configured: refusing to serve unprotected routes")
	}
	if a.metrics == nil {
		a.metrics = metrics.New(version, nil)
	}
	assets, err := static.Load("/static")
	if err != nil {
		return err
	}
	a.deps.Logger = a.log
	a.deps.Assets = assets
	a.deps.Version = version
	a.deps.SecureTransport = a.cfg.PublicURL != nil && a.cfg.PublicURL.Scheme == "https"
	a.deps.ObserveRequest = a.metrics.ObserveRequest
	a.deps.Metrics = a.metrics.Handler()
	a.deps.MetricsNetworks = a.cfg.MetricsNetworks
	h := handlers.New(a.deps)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = handlers.ClientIPExtractor(a.cfg.TrustedProxies)
	h.Register(e, a.authz)

	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	conns := newConnTracker()
	srv.ConnState = conns.hook
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(a.env.stdout, "ctpdesk: listening on http://%s (open %s)\n", ln.Addr(), a.cfg.PublicURL)
	a.log.Info("ctpdesk started", slog.String("version", version), slog.Any("config", a.cfg))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutting down: draining in-flight requests", slog.Duration("grace", a.cfg.ShutdownGrace))
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
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
		return fmt.Errorf("shutdown: %d request(s) still in flight after CTPDESK_SHUTDOWN_GRACE (%s): %w", inFlight, a.cfg.ShutdownGrace, err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	a.log.Info("ctpdesk stopped")
	return nil
}
