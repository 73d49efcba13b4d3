package handlers

import (
	"net/http"

	"ctpdesk/auth"

	"github.com/labstack/echo/v4"
)

// Route is one entry of the sitemap: its method and path, its handler, and who may reach it.
// Public routes are open to anyone; every other route lists the roles allowed (deny by
// default).
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	Public  bool
	Roles   []auth.Role
}

// The role sets the table uses, spelled once.
var (
	staff        = []auth.Role{auth.RoleAgent, auth.RoleFraud}
	everyoneRole = []auth.Role{auth.RoleAgent, auth.RoleFraud, auth.RoleAuditor}
	agentsOnly   = []auth.Role{auth.RoleAgent}
	fraudRole    = []auth.Role{auth.RoleFraud}
	auditorsOnly = []auth.Role{auth.RoleAuditor}
)

// Routes lists every route of ctpdesk. It reads like a sitemap; the access column is the one
// table that says which roles reach which route.
func (h *Handler) Routes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/", Handler: h.Home, Public: true},
		{Method: http.MethodGet, Path: "/healthz", Handler: h.Healthz, Public: true},
		{Method: http.MethodGet, Path: "/readyz", Handler: h.Readyz, Public: true},
		// Public in the table because scrapers do not sign in; the handler admits only the
		// monitoring networks and auditors.
		{Method: http.MethodGet, Path: "/metrics", Handler: h.Metrics, Public: true},
		{Method: http.MethodGet, Path: "/login", Handler: h.Login, Public: true},
		// Anonymous requests that write (a pre-login row, a failed sign-in's audit event) are
		// rate-limited per client address.
		{Method: http.MethodGet, Path: "/auth/start", Handler: h.limitSignIn(h.StartLogin), Public: true},
		{Method: http.MethodGet, Path: "/auth/callback", Handler: h.limitSignIn(h.Callback), Public: true},
		{Method: http.MethodPost, Path: "/logout", Handler: h.Logout, Roles: everyoneRole},
		{Method: http.MethodGet, Path: "/auth/session", Handler: h.KeepAlive, Roles: everyoneRole},
		{Method: http.MethodGet, Path: "/customers", Handler: h.Customers, Roles: staff},
		{Method: http.MethodGet, Path: "/customers/:id", Handler: h.Customer, Roles: staff},
		{Method: http.MethodGet, Path: "/customers/:id/comparison", Handler: h.Comparison, Roles: staff},
		{Method: http.MethodPost, Path: "/customers/:id/comparison/refresh", Handler: h.RefreshComparison, Roles: staff},
		{Method: http.MethodPost, Path: "/customers/:id/reveal", Handler: h.Reveal, Roles: agentsOnly},
		{Method: http.MethodGet, Path: "/scans", Handler: h.Scans, Roles: fraudRole},
		{Method: http.MethodPost, Path: "/scans", Handler: h.StartScan, Roles: fraudRole},
		{Method: http.MethodPost, Path: "/scans/:id/cancel", Handler: h.CancelScan, Roles: fraudRole},
		{Method: http.MethodPost, Path: "/scans/:id/resume", Handler: h.ResumeScan, Roles: fraudRole},
		// Agents see the data-quality part of the worklist; fraud analysts all of it.
		{Method: http.MethodGet, Path: "/worklist", Handler: h.Worklist, Roles: staff},
		{Method: http.MethodGet, Path: "/worklist/export", Handler: h.WorklistExport, Roles: staff},
		{Method: http.MethodPost, Path: "/worklist/:id/decision", Handler: h.DecideItem, Roles: staff},
		{Method: http.MethodGet, Path: "/audit", Handler: h.Audit, Roles: auditorsOnly},
		{Method: http.MethodGet, Path: "/audit/export", Handler: h.AuditExport, Roles: auditorsOnly},
	}
}

// Register installs the middleware stack and every route on e. The middleware order is written
// out once, here, outermost first; each route then gets guard's stack for its access (session,
// then role, then CSRF; see auth.Guard.For). The app and the tests both register through here,
// so what the tests exercise is the stack production serves.
func (h *Handler) Register(e *echo.Echo, guard *auth.Guard) {
	if guard == nil {
		// Without the guard no route would check who is asking: refuse to build such a server.
		panic("handlers: Register needs the auth guard")
	}
	h.register(e, func(r Route) []echo.MiddlewareFunc {
		return guard.For(r.Method, r.Path, auth.Access{Public: r.Public, Roles: r.Roles})
	})
}

// register installs the middleware stack and the routes, each with the middleware access
// returns for it. Handler tests that sign users in by other means pass nil.
func (h *Handler) register(e *echo.Echo, access func(Route) []echo.MiddlewareFunc) {
	e.HTTPErrorHandler = h.HandleError
	e.Use(
		h.withRequestID,      // every log line and error page carries the request id
		h.accessLog,          // one line per request: route pattern, status, duration; no query strings
		h.recoverPanic,       // a panic becomes a 500 page and a log line
		h.securityHeaders,    // CSP, nosniff, frame-ancestors, no-store by default
		h.limitBody(256<<10), // forms are small; anything bigger is refused with 413
		h.canonicalHost,      // dev: sign-in starts on the public URL's host name
	)
	e.GET("/static/*", echo.WrapHandler(h.assets))
	e.HEAD("/static/*", echo.WrapHandler(h.assets))
	for _, r := range h.Routes() {
		var mw []echo.MiddlewareFunc
		if access != nil {
			mw = access(r)
		}
		e.Add(r.Method, r.Path, r.Handler, mw...)
	}
}
