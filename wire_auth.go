package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/devidp"
	"ctpdesk/handlers"
	"ctpdesk/store"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// sessionPurgeInterval is how often expired sessions and pre-logins are deleted.
const sessionPurgeInterval = 5 * time.Minute

// dashboardDB opens the dashboard's own database (sessions, audit trail) once per app and
// closes it when the app stops.
func (a *app) dashboardDB(ctx context.Context) (*store.DB, error) {
	if a.db != nil {
		return a.db, nil
	}
	db, err := store.Open(ctx, auditDatabaseURL(a.cfg))
	if err != nil {
		return nil, fmt.Errorf("CTPDESK_DATABASE_URL: %w", err)
	}
	a.db = db
	a.onClose(db.Close)
	// Sessions and the audit trail live here: without it no page can be served. D1 and the
	// OpenID Provider are left out of readiness on purpose: the issuer half and signed-in
	// sessions keep working while they are down, and an orchestrator must not pull every
	// replica because an upstream failed.
	a.deps.Ready = append(a.deps.Ready, handlers.ReadyCheck{Name: "dashboard database", Probe: db.PingContext})
	return db, nil
}

// wireDevIDP starts the development OpenID Provider on CTPDESK_DEVIDP_ADDR, unless
// CTPDESK_OIDC_ISSUER names a real provider. Only `ctpdesk dev` calls it.
func (a *app) wireDevIDP(ctx context.Context) error {
	if a.dev == nil || a.cfg.OIDC.Issuer != "" {
		return nil
	}
	users := devidp.DefaultUsers()
	if path := a.cfg.OIDC.DevIDPUsers; path != "" {
		var err error
		if users, err = devidp.LoadUsers(path); err != nil {
			return fmt.Errorf("CTPDESK_DEVIDP_USERS: %w", err)
		}
	}
	ln, err := net.Listen("tcp", a.cfg.OIDC.DevIDPAddr)
	if err != nil {
		return fmt.Errorf("CTPDESK_DEVIDP_ADDR %s: %w", a.cfg.OIDC.DevIDPAddr, err)
	}
	issuer := "http://" + ln.Addr().String()
	// A fresh client secret per start: nothing to configure, nothing to leak.
	secretBytes := make([]byte, 32)
	_, _ = rand.Read(secretBytes)
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	idp, err := devidp.New(devidp.Config{
		Issuer: issuer, ClientID: "ctpdesk-dev", ClientSecret: secret,
		RedirectURIs:           []string{a.redirectURL()},
		PostLogoutRedirectURIs: []string{a.postLogoutURL()},
		Users:                  users,
		Log:                    a.log.With(slog.String("component", "devidp")),
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: idp.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("development IdP stopped", slog.String("error", err.Error()))
		}
	}()
	a.onClose(func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	a.dev.IDPIssuer = issuer
	a.cfg.OIDC.Issuer = issuer
	a.cfg.OIDC.ClientID = "ctpdesk-dev"
	a.cfg.OIDC.ClientSecret = Secret(secret)
	fmt.Fprintf(a.env.stdout, "ctpdesk dev: development IdP at %s; demo users:\n", issuer)
	for _, u := range idp.Users() {
		groups := strings.Join(u.Groups, ",")
		if groups == "" {
			groups = "(no group: sees the no-access page)"
		}
		fmt.Fprintf(a.env.stdout, "  %-8s password %-6s groups %s\n", u.Username, u.Password, groups)
	}
	return nil
}

func (a *app) redirectURL() string {
	if a.cfg.OIDC.RedirectURL != nil {
		return a.cfg.OIDC.RedirectURL.String()
	}
	return a.cfg.PublicURL.JoinPath("/auth/callback").String()
}

func (a *app) postLogoutURL() string {
	u := a.cfg.PublicURL.JoinPath("/login")
	u.RawQuery = url.Values{"signed_out": {"1"}}.Encode()
	return u.String()
}

// wireAuth builds sign-in: the session store on the dashboard database, the relying party
// (OIDC discovery happens here, once), the guard that every route's middleware comes from,
// and the hooks that show the signed-in user on each page.
func (a *app) wireAuth(ctx context.Context) error {
	db, err := a.dashboardDB(ctx)
	if err != nil {
		return err
	}
	sessions := auth.NewSessionStore(db, auth.SessionConfig{
		Idle: a.cfg.Session.Idle, Max: a.cfg.Session.Max, Secure: cookieSecure(a.cfg),
	})
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rp, err := auth.NewRelyingParty(dctx, auth.RPConfig{
		Issuer:                a.cfg.OIDC.Issuer,
		ClientID:              a.cfg.OIDC.ClientID,
		ClientSecret:          a.cfg.OIDC.ClientSecret.Reveal(),
		RedirectURL:           a.redirectURL(),
		Scopes:                a.cfg.OIDC.Scopes,
		RoleClaim:             a.cfg.OIDC.RoleClaim,
		Roles:                 a.cfg.Roles.Map(),
		PostLogoutRedirectURL: a.postLogoutURL(),
		HTTPClient:            &http.Client{Timeout: 10 * time.Second},
	})
	if err != nil {
		return fmt.Errorf("CTPDESK_OIDC_ISSUER: %w", err)
	}
	a.sessions = sessions
	guard := &auth.Guard{Sessions: sessions, LoginPath: "/login", Record: a.recordGuardEvent}
	a.deps.SignIn = &auth.Authenticator{RP: rp, Sessions: sessions}
	a.deps.Subject = func(c echo.Context) string {
		u, _ := auth.UserFrom(c.Request().Context())
		return u.Subject
	}
	idleSeconds := int(sessions.IdleTimeout() / time.Second)
	a.deps.BaseUser = func(c echo.Context) (*views.UserView, string) {
		ctx := c.Request().Context()
		u, ok := auth.UserFrom(ctx)
		if !ok {
			return nil, ""
		}
		return userView(u, idleSeconds), auth.CSRFTokenFrom(ctx)
	}
	a.authz = func(r handlers.Route) []echo.MiddlewareFunc {
		roles, err := auth.ParseRoles(r.Roles)
		if err != nil {
			// A typo in the route table must not open the route: it admits nobody.
			a.log.Error("route table names an unknown role; the route admits nobody",
				slog.String("route", auth.RouteKey(r.Method, r.Path)), slog.String("error", err.Error()))
			roles = nil
		}
		return guard.For(r.Method, r.Path, auth.Access{Public: r.Public, Roles: roles})
	}
	pctx, stop := context.WithCancel(context.Background())
	a.onClose(func() error { stop(); return nil })
	go sessions.RunPurge(pctx, sessionPurgeInterval, func(err error) {
		a.log.Error("session purge failed", slog.String("error", err.Error()))
	})
	return nil
}

// recordGuardEvent writes what the guard saw (an expired session, a refused route) to the
// audit trail. A failure is logged: the request is already refused or downgraded.
func (a *app) recordGuardEvent(c echo.Context, u auth.User, kind auth.EventKind, details map[string]string) {
	rec := a.deps.Auditor
	if rec == nil {
		return
	}
	outcome := audit.Success
	if kind == auth.EventAccessDenied {
		outcome = audit.Failure
	}
	e := handlers.AuthEvent(c, u, audit.Action(kind), outcome, details)
	if err := rec.Record(c.Request().Context(), e); err != nil {
		a.log.Error("audit record failed", slog.String("action", string(kind)),
			slog.String("request_id", e.RequestID), slog.String("error", err.Error()))
	}
}

// userView is the header's view of the signed-in user.
func userView(u auth.User, idleSeconds int) *views.UserView {
	roles := u.RoleNames()
	return &views.UserView{
		Name:               u.Name,
		Role:               strings.Join(roles, ", "),
		Roles:              roles,
		IdleTimeoutSeconds: idleSeconds,
		CanSearch:          u.Has(auth.RoleAgent) || u.Has(auth.RoleFraud),
		CanAudit:           u.Has(auth.RoleAuditor),
	}
}
