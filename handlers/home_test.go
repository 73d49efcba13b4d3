package handlers

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"ctpdesk/auth"
	"ctpdesk/static"

	"github.com/labstack/echo/v4"
)

// newHomeServer serves the routes with the user the X-Test-Roles header names: absent means
// anonymous, "-" a signed-in user holding no role, else a comma-separated role list.
func newHomeServer(tb testing.TB) *echo.Echo {
	tb.Helper()
	assets, err := static.Load("/static")
	if err != nil {
		tb.Fatal(err)
	}
	h := mustNew(tb, Deps{Logger: slog.New(slog.DiscardHandler), Assets: assets, Version: "test"})
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, ok := c.Request().Header[http.CanonicalHeaderKey("X-Test-Roles")]
			if !ok {
				return next(c)
			}
			u := auth.User{Issuer: "https://idp.test", Subject: "sub-1", Name: "Robin Roles"}
			for _, r := range strings.Split(raw[0], ",") {
				if r != "-" {
					u.Roles = append(u.Roles, auth.Role(r))
				}
			}
			c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
			return next(c)
		}
	})
	h.register(e, nil)
	return e
}

func TestHomeSendsEachRoleToItsPage(t *testing.T) {
	e := newHomeServer(t)
	for _, tc := range []struct {
		roles    string // "" is anonymous
		status   int
		location string
	}{
		{"agent", http.StatusSeeOther, "/customers"},
		{"fraud", http.StatusSeeOther, "/customers"},
		{"auditor", http.StatusSeeOther, "/audit"},
		// Someone holding a customer role and the auditor role starts at the search page.
		{"auditor,agent", http.StatusSeeOther, "/customers"},
		{"", http.StatusOK, ""},
		{"-", http.StatusForbidden, ""},
	} {
		var rec = get(e, "/")
		if tc.roles != "" {
			rec = get(e, "/", "X-Test-Roles", tc.roles)
		}
		if rec.Code != tc.status || rec.Header().Get("Location") != tc.location {
			t.Errorf("%q: %d Location %q, want %d %q", tc.roles, rec.Code, rec.Header().Get("Location"), tc.status, tc.location)
		}
	}

	doc := mustDoc(t, get(e, "/"))
	if href := doc.Find(`[data-testid=landing] a[data-testid=sign-in]`).AttrOr("href", ""); href != "/auth/start" {
		t.Errorf("landing page sign-in button leads to %q, want /auth/start", href)
	}

	doc = mustDoc(t, get(e, "/", "X-Test-Roles", "-"))
	page := doc.Find(`[data-testid=no-access]`)
	if page.Length() != 1 {
		t.Fatal("a signed-in user without a role does not get the no-access page")
	}
	if text := page.Text(); !strings.Contains(text, "Robin Roles") || !strings.Contains(text, "Sign out") || strings.Contains(text, "not been signed in") {
		t.Errorf("no-access page for a session without a role says:\n%s", text)
	}
	if doc.Find(`[data-testid=landing]`).Length() != 0 {
		t.Error("the no-access answer also shows the landing page")
	}
}
