// Package handlers is ctpdesk's HTTP layer: each handler parses its input, calls the package
// that does the work, builds a view model and renders it. Routes are listed in routes.go;
// errors become responses in errors.go.
package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"time"

	"ctpdesk/static"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// Deps are the collaborators a Handler needs. Each is a small interface declared beside the
// handler that uses it, so tests can pass fakes.
type Deps struct {
	Logger  *slog.Logger
	Assets  *static.Assets
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Ready reports whether the dependencies are reachable, for /readyz.
	Ready []ReadyCheck
	// SecureTransport says the public URL is https: it turns on HSTS.
	SecureTransport bool
	// CanonicalURL, when set, is the public URL that sign-in entry pages requested under
	// another host name are redirected to (see canonicalHost).
	CanonicalURL *url.URL
	// Subject returns the signed-in user's subject for the access log, "" when anonymous.
	Subject func(c echo.Context) string
	// BaseUser fills the header's signed-in user slot and the CSRF token of a page.
	BaseUser func(c echo.Context) (*views.UserView, string)
	// ObserveRequest records each served request for /metrics; nil records nothing.
	ObserveRequest func(method, route string, status int, d time.Duration)
	// SignInRate is how many sign-in requests one client address may make per minute
	// (CTPDESK_SIGNIN_RATE); zero means DefaultSignInRate.
	SignInRate int
	// Metrics serves /metrics; MetricsNetworks are the networks it answers without sign-in.
	Metrics         http.Handler
	MetricsNetworks []netip.Prefix
	// Customers is the issuer database: search and the issuer record.
	Customers CustomerSearcher
	// SignIn runs the OpenID Connect sign-in and sign-out (auth.Authenticator); see login.go.
	SignIn SignIn
	// Profiles is the D1 client: each directory's profile of a consumer (comparison.go).
	Profiles ProfileFetcher
	// Auditor commits the audit event of every data access before the data is sent
	// (audit_record.go); without one, data routes answer 503.
	Auditor Auditor
	// AuditTrail is the trail as the auditors' pages read it (audit.go).
	AuditTrail AuditTrail
	// RecentViews lists the customers a user opened last, from the trail (recent.go).
	RecentViews RecentViews
	// RevealLimits bound each agent's reveals (reveal_limit.go); required.
	RevealLimits RevealLimits
	// Scans is the portfolio scan: /scans, /worklist and the customer page's scan line
	// (scans.go, worklist.go).
	Scans Scans
}

// Handler serves every route of ctpdesk.
type Handler struct {
	log     *slog.Logger
	assets  *static.Assets
	version string
	now     func() time.Time
	ready   []ReadyCheck
	secure  bool
	// canonical is Deps.CanonicalURL.
	canonical *url.URL
	subject   func(c echo.Context) string
	user      func(c echo.Context) (*views.UserView, string)
	observe   func(method, route string, status int, d time.Duration)

	metrics     http.Handler
	metricsNets []netip.Prefix

	customers CustomerSearcher
	// handoff passes the record a customer page read to the comparison it loads.
	handoff   *recordHandoff
	signIn    SignIn
	profiles  ProfileFetcher
	refreshes *refreshLimiter

	signInLimit    *signInLimiter
	signInFailures *signInFailures

	auditor      Auditor
	auditTrail   AuditTrail
	recent       RecentViews
	revealLimits RevealLimits
	scans        Scans
}

// New builds a Handler from its dependencies. Every component a route needs is required, so
// a handler is never built with a route that cannot work; the optional hooks (Logger, Now,
// Subject, BaseUser, ObserveRequest) default to quiet ones.
func New(d Deps) (*Handler, error) {
	var missing []string
	for name, absent := range map[string]bool{
		"Assets":      d.Assets == nil,
		"Customers":   d.Customers == nil,
		"SignIn":      d.SignIn == nil,
		"Profiles":    d.Profiles == nil,
		"Auditor":     d.Auditor == nil,
		"AuditTrail":  d.AuditTrail == nil,
		"RecentViews": d.RecentViews == nil,
		"Metrics":     d.Metrics == nil,
		"Scans":       d.Scans == nil,
	} {
		if absent {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("handlers: missing dependencies: %s", strings.Join(missing, ", "))
	}
	if err := d.RevealLimits.validate(); err != nil {
		return nil, err
	}
	h := &Handler{
		log:       d.Logger,
		assets:    d.Assets,
		version:   d.Version,
		now:       d.Now,
		ready:     d.Ready,
		secure:    d.SecureTransport,
		canonical: d.CanonicalURL,
		subject:   d.Subject,
		user:      d.BaseUser,
		observe:   d.ObserveRequest,

		metrics:     d.Metrics,
		metricsNets: d.MetricsNetworks,

		customers: d.Customers,
		signIn:    d.SignIn,
		profiles:  d.Profiles,
		refreshes: newRefreshLimiter(refreshLimit, refreshWindow),

		auditor:      d.Auditor,
		auditTrail:   d.AuditTrail,
		recent:       d.RecentViews,
		revealLimits: d.RevealLimits,
		scans:        d.Scans,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if d.SignInRate <= 0 {
		d.SignInRate = DefaultSignInRate
	}
	h.signInLimit = newSignInLimiter(d.SignInRate, h.now)
	h.handoff = newRecordHandoff()
	h.signInFailures = newSignInFailures(h.now, h.auditor.Record, h.log)
	if h.subject == nil {
		h.subject = func(echo.Context) string { return "" }
	}
	if h.observe == nil {
		h.observe = func(string, string, int, time.Duration) {}
	}
	if h.user == nil {
		h.user = func(echo.Context) (*views.UserView, string) { return nil, "" }
	}
	return h, nil
}

// base builds the part of every page's view model that does not depend on the page.
func (h *Handler) base(c echo.Context, title string) views.Base {
	u, csrf := h.user(c)
	if u != nil {
		// The display name comes from the identity provider: a direction override in it must
		// not turn the header around.
		shown := *u
		shown.Name = cleanText(shown.Name)
		u = &shown
	}
	return views.Base{
		Title:     title,
		User:      u,
		CSRFToken: csrf,
		Version:   h.version,
		RequestID: requestID(c),
		Assets: views.Assets{
			PicoCSS: h.assets.URL("css/pico.min.css"),
			AppCSS:  h.assets.URL("css/app.css"),
			HTMX:    h.assets.URL("js/htmx.min.js"),
			AppJS:   h.assets.URL("js/app.js"),
			Icon:    h.assets.URL("img/favicon.svg"),
		},
	}
}
