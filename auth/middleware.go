package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// Errors the middleware returns. They travel inside *echo.HTTPError so the status is right even
// under echo's default error handler, and errors.Is still finds them.
var (
	ErrForbidden = errors.New("auth: access denied")
	ErrCSRF      = errors.New("auth: missing or invalid CSRF token")
)

// EventKind names a security event the guard observed. The values equal the audit trail's
// action names, so the recorder can pass them through unchanged.
type EventKind string

// Events the guard reports.
const (
	EventSessionExpired EventKind = "session.expired"
	EventSessionRevoked EventKind = "session.revoked"
	EventAccessDenied   EventKind = "access.denied"
)

// Rechecker asks the provider again about a session's person; Authenticator.Recheck is the
// implementation. It returns the session to go on with and, when it ended the session, a
// *RevokedError.
type Rechecker interface {
	Recheck(w http.ResponseWriter, r *http.Request, sess *Session) (*Session, error)
}

// Guard is the middleware that enforces sessions, roles and CSRF tokens. Build one at start;
// For gives each route its stack from the route's Access.
type Guard struct {
	Sessions *SessionStore
	// LoginPath is where unauthenticated browsers are sent, normally "/login".
	LoginPath string
	// StartPath starts a sign-in at the OpenID Provider, normally "/auth/start". A browser
	// whose session expired is sent there directly, with the page to come back to: the
	// provider's own session usually signs it straight back in, with no page in between.
	// Empty sends expired sessions to LoginPath like anyone else.
	StartPath string
	// Record is told about expired sessions and refused access, for the audit trail. It
	// handles its own failures: the request is already being refused or downgraded, which is
	// the safe outcome either way. Nil records nothing.
	Record func(c echo.Context, u User, kind EventKind, details map[string]string)
	// Recheck re-checks signed-in sessions at the provider (at most every re-check interval),
	// before the request's user is known. Nil turns re-checks off, which only tests do.
	Recheck Rechecker
}

// endedKey marks a request whose session just ended, and why: "expired" or "ended".
type endedKey struct{}

// For returns the middleware of one route, in order: load the session, enforce access, check
// the CSRF token of state-changing requests. Every route gets all three, public ones included,
// so a public page still knows who is signed in and a public POST still needs a token.
func (g *Guard) For(method, path string, access Access) []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{g.Session(), g.Authorize(RouteKey(method, path), access), g.CSRF()}
}

// Session loads the request's session, re-checks it at the provider when that is due, and puts
// it, the user and the CSRF token into the request context. An expired session, and one the
// re-check ended, is reported and the request goes on as anonymous.
func (g *Guard) Session() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			sess, err := g.Sessions.Load(r)
			ctx := r.Context()
			var expired *ExpiredError
			switch {
			case errors.As(err, &expired):
				ctx = context.WithValue(ctx, endedKey{}, "expired")
				g.record(c, expired.User, EventSessionExpired, map[string]string{"reason": expired.Reason})
			case errors.Is(err, ErrUnavailable):
				// Without the session store nobody can be told apart from anybody: refuse
				// at once with 503 (not a 500: nothing is broken in ctpdesk itself).
				return &echo.HTTPError{Code: http.StatusServiceUnavailable, Message: "session store unavailable", Internal: err}
			case err != nil:
				return err
			}
			if _, ok := sess.User(); ok && g.Recheck != nil {
				var revoked *RevokedError
				sess, err = g.Recheck.Recheck(c.Response(), r, sess)
				switch {
				case errors.As(err, &revoked):
					ctx = context.WithValue(ctx, endedKey{}, "ended")
					g.record(c, revoked.User, EventSessionRevoked, map[string]string{"reason": revoked.Reason})
				case err != nil:
					return err
				}
			}
			if u, ok := sess.User(); ok {
				ctx = WithUser(ctx, u)
				ctx = WithCSRFToken(ctx, sess.CSRFToken())
			}
			c.SetRequest(r.WithContext(ctx))
			return next(c)
		}
	}
}

// Authorize enforces access for the route named route. Public routes pass. Everyone else must
// be signed in (else they are sent to the sign-in page, through HX-Redirect for htmx) and hold
// a role the route allows (else 403, reported).
func (g *Guard) Authorize(route string, access Access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if access.Public {
				return next(c)
			}
			ctx := c.Request().Context()
			u, signedIn := UserFrom(ctx)
			if !signedIn {
				ended, _ := ctx.Value(endedKey{}).(string)
				return g.unauthenticated(c, ended)
			}
			// Pages behind sign-in may show customer data; no browser or proxy may keep them,
			// so Back after sign-out shows nothing.
			c.Response().Header().Set("Cache-Control", "no-store")
			if !access.Allows(u.Roles) {
				g.record(c, u, EventAccessDenied, map[string]string{"route": route})
				return &echo.HTTPError{Code: http.StatusForbidden, Message: "access denied", Internal: ErrForbidden}
			}
			return next(c)
		}
	}
}

// CSRF refuses a state-changing request unless it carries the session's token in the
// X-CSRF-Token header (htmx) or the _csrf form field. Sec-Fetch-Site never vouches for a
// request; a cross-site one is refused even with a token. Without a session there is no token,
// so every state-changing request of an anonymous browser is refused.
func (g *Guard) CSRF() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				return next(c)
			}
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = c.FormValue("_csrf")
			}
			want := CSRFTokenFrom(r.Context())
			if !equalTokens(token, want) || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
				return &echo.HTTPError{Code: http.StatusForbidden, Message: "invalid CSRF token", Internal: ErrCSRF}
			}
			return next(c)
		}
	}
}

// unauthenticated sends a browser without a session to the sign-in page; ended ("expired",
// "ended" or "") tells the page why the previous session is gone.
func (g *Guard) unauthenticated(c echo.Context, ended string) error {
	r := c.Request()
	htmx := r.Header.Get("HX-Request") == "true"
	q := url.Values{}
	switch {
	case r.Method == http.MethodGet && !htmx:
		q.Set("next", r.URL.RequestURI())
	case htmx:
		// An htmx request is a fragment of the page the user is on: come back to that page.
		if u, err := url.Parse(r.Header.Get("HX-Current-URL")); err == nil && u.Path != "" {
			if next := SafeReturnPath(u.RequestURI()); next != "/" {
				q.Set("next", next)
			}
		}
	}
	target := g.LoginPath
	switch ended {
	case "expired":
		if g.StartPath != "" {
			target = g.StartPath
		} else {
			q.Set("expired", "1")
		}
	case "ended":
		// A session the provider's re-check ended goes to the sign-in page, which says why;
		// going straight back to the provider would hide it.
		q.Set("ended", "1")
	}
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if r.Header.Get("HX-Request") == "true" {
		// A redirect would be followed by XMLHttpRequest and the sign-in page swapped into the
		// page; HX-Redirect makes htmx navigate the whole window instead.
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusUnauthorized)
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthenticated", "login": target})
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// record passes an event to the configured recorder, if any.
func (g *Guard) record(c echo.Context, u User, kind EventKind, details map[string]string) {
	if g.Record != nil {
		g.Record(c, u, kind, details)
	}
}
