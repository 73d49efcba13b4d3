package app

import (
	"log/slog"
	"strings"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/handlers"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// subjectOf names the signed-in user in the access log; "" when anonymous.
func subjectOf(c echo.Context) string {
	u, _ := auth.UserFrom(c.Request().Context())
	return u.Subject
}

// baseUser fills the header's signed-in user slot and the page's CSRF token.
func baseUser(c echo.Context, idleSeconds int) (*views.UserView, string) {
	ctx := c.Request().Context()
	u, ok := auth.UserFrom(ctx)
	if !ok {
		return nil, ""
	}
	return userView(u, idleSeconds), auth.CSRFTokenFrom(ctx)
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
		CanScan:            u.Has(auth.RoleFraud),
	}
}

// recordGuardEvent writes what the guard saw (an expired session, a refused route) to the
// audit trail. A failure is logged: the request is already refused or downgraded.
func (a *App) recordGuardEvent(c echo.Context, u auth.User, kind auth.EventKind, details map[string]string) {
	outcome := audit.Success
	if kind == auth.EventAccessDenied {
		outcome = audit.Failure
	}
	e := handlers.AuthEvent(c, u, audit.Action(kind), outcome, details)
	if err := a.trail.Record(c.Request().Context(), e); err != nil {
		a.opts.Log.Error("audit record failed", slog.String("action", string(kind)),
			slog.String("request_id", e.RequestID), slog.String("error", err.Error()))
	}
}
