// Package app is ctpdesk's composition root: New opens every component the dashboard is made
// of, in one straight line of constructor calls, and Serve runs it until its context ends.
// `ctpdesk serve` builds it from the production configuration; `ctpdesk dev` first starts the
// embedded stack (internal/devstack) and passes the settings it produced.
package app

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

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/handlers"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
	"ctpdesk/metrics"
	"ctpdesk/scan"
	"ctpdesk/static"
	"ctpdesk/store"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// How often the background maintenance runs.
const (
	retentionInterval    = 24 * time.Hour
	sessionPurgeInterval = 5 * time.Minute
	signInFlushInterval  = 15 * time.Second
)

// Options are what the process hands the app besides its configuration.
type Options struct {
	// Version is the build's version, shown in the footer and exported in /metrics.
	Version string
	// Stdout receives the few human-readable start-up lines; Log the JSON log.
	Stdout io.Writer
	Log    *slog.Logger
}

// App is one running dashboard: every component New opened, and the HTTP handler built from
// them. Its accessors are read-only views for harnesses such as the load test.
type App struct {
	cfg      config.Config
	opts     Options
	db       *store.DB
	trail    *audit.Trail
	sessions *auth.SessionStore
	issuer   *issuerdb.DB
	d1       *d1.Client
	scanner  *scan.Scanner
	metrics  *metrics.Metrics
	handler  http.Handler
	closers  []func() error
	stopBg   context.CancelFunc
}

// New opens the dashboard's database, the audit trail and its witness, sign-in (OIDC
// discovery happens here, once, or in the background while the provider is unreachable), the
// issuer's records and the D1 client, and builds the routes over them. cfg must
// already name the OpenID Provider, D1 and both databases: in dev, devstack fills them in.
// On error everything already opened is closed again.
func New(ctx context.Context, cfg config.Config, opts Options) (a *App, err error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PublicURL == nil {
		return nil, errors.New("app: the public URL is not known (bind with Listen first)")
	}
	a = &App{cfg: cfg, opts: opts}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	log := opts.Log
	m := metrics.New(opts.Version, nil)
	a.metrics = m

	// The dashboard's own state: sessions and the audit trail.
	if a.db, err = store.Open(ctx, cfg.DashboardDatabaseURL()); err != nil {
		return nil, fmt.Errorf("CTPDESK_DATABASE_URL: %w", err)
	}
	a.onClose(a.db.Close)
	key, err := cfg.Audit.AuditKey(cfg.Mode, cfg.DataDir, cfg.Mode == config.ModeDev)
	if err != nil {
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	// Every sealed checkpoint also goes to the witness, outside the database.
	witness, err := audit.OpenFileWitness(cfg.AuditWitnessFile())
	if err != nil {
		return nil, fmt.Errorf("CTPDESK_AUDIT_WITNESS: %w", err)
	}
	a.onClose(witness.Close)
	if a.trail, err = audit.New(a.db, audit.Options{Key: key, CheckpointEvery: cfg.Audit.CheckpointEvery, Logger: log,
		Witness: witness, Metrics: m, RecordTimeout: cfg.Audit.RecordTimeout}); err != nil {
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	// Closed before the database and the witness: its queue drains into them.
	a.onClose(a.trail.Close)

	// Background work (retention, session purge, provider discovery) runs until close.
	bg, stop := context.WithCancel(context.Background())
	a.stopBg = stop

	// Sign-in. Discovery is tried once here; a provider that cannot be reached does not stop
	// the start: sign-in says it is unavailable while discovery is retried in the background,
	// and sessions already signed in keep working.
	a.sessions = auth.NewSessionStore(a.db, auth.SessionConfig{
		Idle: cfg.Session.Idle, Max: cfg.Session.Max, Secure: cfg.CookieSecure(), DBTimeout: cfg.Session.DBTimeout,
		Roles: cfg.Roles.Map(),
	})
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rp, err := auth.StartRelyingParty(dctx, bg, auth.RPConfig{
		Issuer:                cfg.OIDC.Issuer,
		ClientID:              cfg.OIDC.ClientID,
		ClientSecret:          cfg.OIDC.ClientSecret.Reveal(),
		RedirectURL:           RedirectURL(cfg),
		Scopes:                cfg.OIDC.Scopes,
		RoleClaim:             cfg.OIDC.RoleClaim,
		RequireAMR:            cfg.OIDC.RequireAMR,
		ACRValues:             cfg.OIDC.ACRValues,
		PostLogoutRedirectURL: PostLogoutURL(cfg),
		HTTPClient:            &http.Client{Timeout: 10 * time.Second},
		Log:                   log.With("component", "oidc"),
	})
	if err != nil {
		return nil, fmt.Errorf("CTPDESK_OIDC_ISSUER: %w", err)
	}
	signIn := &auth.Authenticator{RP: rp, Sessions: a.sessions, Log: log.With("component", "oidc")}

	// The issuer's records: production reads the issuer's replica, never writing to it.
	issuerURL := cfg.IssuerDBURL.Reveal()
	if a.issuer, err = issuerdb.Open(ctx, issuerURL, issuerdb.Options{ReadOnly: true, PhoneRegion: cfg.Issuer.PhoneRegion,
		Searches: cfg.Issuer.Searches}); err != nil {
		return nil, fmt.Errorf("issuer database %s: %w", config.RedactURL(issuerURL), err)
	}
	a.onClose(a.issuer.Close)
	m.WatchSearchesWaiting(func() float64 { return float64(a.issuer.SearchesWaiting()) })

	// D1.
	hc, err := d1.NewHTTPClient(cfg.D1.Client)
	if err != nil {
		return nil, fmt.Errorf("D1 client: %w", err)
	}
	if a.d1, err = d1.New(cfg.D1.Client, hc, d1.WithLogger(log.With("component", "d1")), d1.WithMetrics(m)); err != nil {
		return nil, fmt.Errorf("D1 client: %w", err)
	}

	// The portfolio scan: River works its jobs on the dashboard database; it is stopped
	// before the audit trail closes, since a finishing scan writes an audit event.
	if a.scanner, err = newScanner(cfg, key, a.db, a.issuer, a.d1, log, a.recordScanFinish); err != nil {
		return nil, err
	}
	if err := a.scanner.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	a.onClose(func() error {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		return a.scanner.Stop(sctx)
	})

	assets, err := static.Load("/static")
	if err != nil {
		return nil, err
	}
	guard := &auth.Guard{Sessions: a.sessions, LoginPath: "/login", StartPath: "/auth/start", Record: a.recordGuardEvent, Recheck: signIn}
	idleSeconds := int(a.sessions.IdleTimeout() / time.Second)
	// In dev the public URL is the loopback host name the README names; a browser that opened
	// another one is sent there before it signs in. Production leaves host names to its proxy.
	var canonical *url.URL
	if cfg.Mode == config.ModeDev {
		canonical = cfg.PublicURL
	}
	h, err := handlers.New(handlers.Deps{
		CanonicalURL:    canonical,
		Logger:          log,
		Assets:          assets,
		Version:         opts.Version,
		SecureTransport: cfg.PublicURL.Scheme == "https",
		Subject:         subjectOf,
		BaseUser:        func(c echo.Context) (*views.UserView, string) { return baseUser(c, idleSeconds) },
		ObserveRequest:  m.ObserveRequest,
		Metrics:         m.Handler(),
		MetricsNetworks: cfg.MetricsNetworks,
		SignInRate:      cfg.SignInRate,
		// D1 and the OpenID Provider are left out of readiness on purpose: the issuer half
		// and signed-in sessions keep working while they are down, and an orchestrator must
		// not pull every replica because an upstream failed.
		Ready: []handlers.ReadyCheck{
			{Name: "dashboard database", Probe: a.db.PingContext},
			// A replica whose trail cannot commit refuses every data request, so it is not
			// ready: a ping alone passes on a database that is locked, read-only or full.
			{Name: "audit trail", Probe: a.trail.Ready},
			{Name: "issuer database", Probe: a.issuer.Ping},
		},
		Customers: a.issuer,
		SignIn:    signIn,
		// People's comparisons go through the scan's accounting, so the scan yields to them.
		Profiles:     a.scanner.Interactive(a.d1),
		Auditor:      a.trail,
		AuditTrail:   a.trail,
		RecentViews:  a.trail,
		RevealLimits: handlers.RevealLimits{PerMinute: cfg.Reveal.PerMinute, PerDay: cfg.Reveal.PerDay},
		Scans:        a.scanner,
	})
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = handlers.ClientIPExtractor(cfg.TrustedProxies)
	h.Register(e, guard)
	a.handler = e
	// Closed before the trail (closers run newest first): the counted sign-in failures still
	// open are written while it can take them.
	a.onClose(func() error {
		h.FlushSignInFailures(context.Background())
		return nil
	})

	// Background maintenance: retention of the trail and expiry of sessions.
	go a.trail.RunRetention(bg, cfg.Audit.Retention, retentionInterval)
	go a.sessions.RunPurge(bg, sessionPurgeInterval, func(err error) {
		log.Error("session purge failed", slog.String("error", err.Error()))
	})
	go h.RunSignInFailureFlush(bg, signInFlushInterval)
	return a, nil
}

// Config returns the configuration the app runs with.
func (a *App) Config() config.Config { return a.cfg }

// Handler is the app's HTTP handler, with every middleware and route installed.
func (a *App) Handler() http.Handler { return a.handler }

// Sessions is the session store; harnesses sign their virtual users in through it.
func (a *App) Sessions() *auth.SessionStore { return a.sessions }

// DB is the dashboard's own database (sessions, audit trail).
func (a *App) DB() *store.DB { return a.db }

// Scanner is the portfolio scan.
func (a *App) Scanner() *scan.Scanner { return a.scanner }

// D1 is the D1 client, whose breaker state harnesses watch.
func (a *App) D1() *d1.Client { return a.d1 }

// Metrics are the collectors behind /metrics.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

func (a *App) onClose(fn func() error) { a.closers = append(a.closers, fn) }

// close stops the background work and closes every component in reverse order of opening.
func (a *App) close() error {
	if a.stopBg != nil {
		a.stopBg()
	}
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Listen binds the dashboard's address before anything else is built, so that in dev the
// public URL (and with it the OIDC redirect URL) can name the real port even when the
// configured one is 0. It fills in cfg.PublicURL when it is unset.
func Listen(cfg *config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on CTPDESK_ADDR %s: %w", cfg.Addr, err)
	}
	if cfg.PublicURL == nil {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		if host == "" || host == "0.0.0.0" || host == "::" || cfg.Addr == config.DefaultAddr {
			// The README sends people to http://localhost:8080; cookies are per host name, so the
			// public URL must use the same name the browser does.
			host = "localhost"
		}
		cfg.PublicURL = &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}
	}
	return ln, nil
}

// RedirectURL is the OIDC redirect URL: CTPDESK_OIDC_REDIRECT_URL or the public URL's
// /auth/callback.
func RedirectURL(cfg config.Config) string {
	if cfg.OIDC.RedirectURL != nil {
		return cfg.OIDC.RedirectURL.String()
	}
	return cfg.PublicURL.JoinPath("/auth/callback").String()
}

// PostLogoutURL is where the OpenID Provider sends the browser after sign-out.
func PostLogoutURL(cfg config.Config) string {
	u := cfg.PublicURL.JoinPath("/login")
	u.RawQuery = url.Values{"signed_out": {"1"}}.Encode()
	return u.String()
}
