package handlers

import (
	"net/http"

	"ctpdesk/auth"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// Home is GET /. It is nobody's destination: the search page is the home page of agents and
// fraud analysts, the audit trail that of auditors, so a signed-in user is sent on (303) to
// the page of their role. Anonymous visitors see the landing page with the sign-in button; a
// session that holds no ctpdesk role (the role mapping changed since sign-in) gets the
// no-access page.
func (h *Handler) Home(c echo.Context) error {
	u, signedIn := auth.UserFrom(c.Request().Context())
	if target := homeFor(u, signedIn); target != "" {
		return c.Redirect(http.StatusSeeOther, target)
	}
	if signedIn {
		b := h.base(c, "No access")
		return render(c, http.StatusForbidden, views.NoAccess(b, views.NoAccessPage{Name: u.Name, RequestID: b.RequestID, SignedIn: true}))
	}
	return render(c, http.StatusOK, views.Home(h.base(c, "Home"), views.HomePage{SignInURL: "/auth/start"}))
}

// homeFor is where a user's work starts, "" for anyone without a role.
func homeFor(u auth.User, signedIn bool) string {
	switch {
	case !signedIn:
		return ""
	case u.Has(auth.RoleAgent) || u.Has(auth.RoleFraud):
		return "/customers"
	case u.Has(auth.RoleAuditor):
		return "/audit"
	}
	return ""
}
