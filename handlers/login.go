package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// SignIn runs the OpenID Connect sign-in and sign-out. auth.Authenticator implements it.
// Available is false while the OpenID Provider has not been reached; BeginLogin and
// FinishLogin then return auth.ErrSignInUnavailable.
type SignIn interface {
	Available() bool
	BeginLogin(w http.ResponseWriter, r *http.Request, returnTo string) (string, error)
	FinishLogin(w http.ResponseWriter, r *http.Request, approve func(auth.User) error) (auth.User, string, error)
	Logout(w http.ResponseWriter, r *http.Request) (endSessionURL string, u auth.User, signedIn bool, err error)
}

// signInRetrySeconds is the Retry-After of the sign-in unavailable page: the provider's
// discovery is retried in the background at least this often once it has failed a while.
const signInRetrySeconds = 30

// Login shows the sign-in page. A signed-in user goes straight on to where they were going.
func (h *Handler) Login(c echo.Context) error {
	next := auth.SafeReturnPath(c.QueryParam("next"))
	noStore(c)
	if _, ok := auth.UserFrom(c.Request().Context()); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if !h.signIn.Available() {
		return h.signInUnavailable(c)
	}
	start := "/auth/start"
	if next != "/" {
		start += "?" + url.Values{"next": {next}}.Encode()
	}
	base := h.base(c, "Sign in")
	base.Nav = "login"
	return render(c, http.StatusOK, views.Login(base, views.LoginPage{
		StartURL:  start,
		Expired:   c.QueryParam("expired") == "1",
		Ended:     c.QueryParam("ended") == "1",
		SignedOut: c.QueryParam("signed_out") == "1",
	}))
}

// StartLogin records a pre-login (state, nonce, PKCE verifier) and sends the browser to the
// provider.
func (h *Handler) StartLogin(c echo.Context) error {
	target, err := h.signIn.BeginLogin(c.Response(), c.Request(), c.QueryParam("next"))
	if errors.Is(err, auth.ErrSignInUnavailable) {
		return h.signInUnavailable(c)
	}
	if err != nil {
		return fmt.Errorf("handlers: start sign-in: %w", err)
	}
	noStore(c)
	return c.Redirect(http.StatusFound, target)
}

// Callback completes the sign-in. The audit event is written before the session exists; a
// refused sign-in is audited too and shows a page that says why, in a stable reason code.
func (h *Handler) Callback(c echo.Context) error {
	noStore(c)
	_, next, err := h.signIn.FinishLogin(c.Response(), c.Request(), func(u auth.User) error {
		if err := h.recordSignIn(c, u, audit.ActionLogin, audit.Success, nil); err != nil {
			return err
		}
		h.noteSignIn(c, u)
		return nil
	})
	if err == nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if errors.Is(err, auth.ErrSignInUnavailable) {
		return h.signInUnavailable(c)
	}
	var le *auth.LoginError
	if !errors.As(err, &le) {
		return fmt.Errorf("handlers: sign-in callback: %w", err)
	}
	log := Logger(c.Request().Context(), h.log)
	log.Warn("sign-in refused", slog.String("reason", le.Reason), slog.String("error", le.Err.Error()))
	var who auth.User
	if le.User != nil {
		who = *le.User
	}
	if le.Reason == auth.ReasonNotRecorded {
		log.Error("sign-in not granted: the audit trail could not record it", slog.String("error", le.Err.Error()))
		return userError(http.StatusServiceUnavailable, "Sign-in unavailable",
			"Your sign-in could not be recorded in the audit trail, so it was not completed. Try again in a few minutes.")
	}
	failed := AuthEvent(c, who, audit.ActionLoginFailed, audit.Failure, map[string]string{"reason": le.Reason})
	// A refusal that names nobody (a forged, replayed or stale callback) is counted per client
	// address; the first of a window is written now, the rest as one counted event.
	if le.User != nil || h.signInFailures.note(c.Request().Context(), failed) {
		if aerr := h.auditor.Record(c.Request().Context(), failed); aerr != nil {
			log.Error("audit of a refused sign-in failed", slog.String("reason", le.Reason), slog.String("error", aerr.Error()))
		}
	}
	base := h.base(c, "Sign-in failed")
	if le.Reason == auth.ReasonNoRole {
		base.Title = "No access"
		return render(c, http.StatusForbidden, views.NoAccess(base, views.NoAccessPage{Name: who.Name, RequestID: base.RequestID}))
	}
	return render(c, http.StatusUnauthorized, views.SignInFailed(base, views.SignInFailedPage{
		Status: http.StatusUnauthorized, Reason: le.Reason, RequestID: base.RequestID,
	}))
}

// Logout deletes the session on the server and, when the provider has an end-session
// endpoint, sends the browser there to sign out of the provider too.
func (h *Handler) Logout(c echo.Context) error {
	noStore(c)
	endURL, u, signedIn, err := h.signIn.Logout(c.Response(), c.Request())
	if err != nil {
		return fmt.Errorf("handlers: sign out: %w", err)
	}
	if signedIn {
		// The session is already gone: a failed audit write must not keep anyone signed in,
		// so it is logged loudly instead.
		if aerr := h.recordSignIn(c, u, audit.ActionLogout, audit.Success, nil); aerr != nil {
			Logger(c.Request().Context(), h.log).Error("audit of a sign-out failed", slog.String("error", aerr.Error()))
		}
	}
	if endURL == "" {
		return c.Redirect(http.StatusSeeOther, "/login?signed_out=1")
	}
	return render(c, http.StatusOK, views.SignedOut(h.signedOutBase(c), endURL))
}

// signInUnavailable answers 503 with the page that says sign-in cannot happen now.
func (h *Handler) signInUnavailable(c echo.Context) error {
	noStore(c)
	c.Response().Header().Set("Retry-After", strconv.Itoa(signInRetrySeconds))
	base := h.base(c, "Sign-in unavailable")
	base.Nav = "login"
	if wantsJSON(c) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{
			"error": "Sign-in unavailable", "message": "The sign-in service cannot be reached.", "request_id": base.RequestID,
		})
	}
	return render(c, http.StatusServiceUnavailable, views.SignInUnavailable(base, views.SignInUnavailablePage{
		RetryAfterSeconds: signInRetrySeconds, RequestID: base.RequestID,
	}))
}

// signedOutBase is the page frame after sign-out: nobody is signed in any more.
func (h *Handler) signedOutBase(c echo.Context) views.Base {
	b := h.base(c, "Signed out")
	b.User, b.CSRFToken = nil, ""
	return b
}

// KeepAlive answers the idle-timeout warning's "Stay signed in": reaching it at all has
// already moved the session's last activity to now.
func (h *Handler) KeepAlive(c echo.Context) error {
	noStore(c)
	return c.NoContent(http.StatusNoContent)
}

// recordSignIn writes one sign-in related audit event. Without an audit trail nothing can be
// recorded, and so (like data access) nobody is signed in.
func (h *Handler) recordSignIn(c echo.Context, u auth.User, action audit.Action, outcome audit.Outcome, details map[string]string) error {
	if err := h.auditor.Record(c.Request().Context(), AuthEvent(c, u, action, outcome, details)); err != nil {
		return fmt.Errorf("handlers: audit %s: %w", action, err)
	}
	return nil
}

// noteSignIn lists the person who just signed in, with their email, in the trail's directory
// the auditors' actor filter matches email prefixes in. The sign-in event is already durable;
// a directory that cannot be written only leaves the email out of the filter, so it is
// logged, not refused.
func (h *Handler) noteSignIn(c echo.Context, u auth.User) {
	ctx := c.Request().Context()
	p := audit.Person{Issuer: u.Issuer, Subject: u.Subject, Name: u.Name, Email: u.Email}
	if err := h.auditTrail.NoteSignIn(ctx, p); err != nil {
		Logger(ctx, h.log).Warn("audit sign-in directory", slog.String("error", err.Error()))
	}
}

// AuthEvent builds the audit event of a sign-in, sign-out, expiry or refusal for the current
// request: who (issuer, subject, name, roles), what, the client IP from the trusted-proxy rule
// and the request id.
func AuthEvent(c echo.Context, u auth.User, action audit.Action, outcome audit.Outcome, details map[string]string) audit.Event {
	e := auditEvent(c, action, outcome, "", details)
	e.Actor = audit.Actor{Issuer: u.Issuer, Subject: u.Subject, Name: u.Name, Roles: u.RoleNames()}
	return e
}
