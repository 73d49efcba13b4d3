package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// signInEntryPaths are the pages a sign-in starts from. A sign-in begun on one host name and
// finished on another fails (the pre-login cookie belongs to the first), so these are sent to
// the canonical host first.
var signInEntryPaths = map[string]bool{"/": true, "/login": true, "/auth/start": true}

// canonicalHost redirects a GET of a sign-in entry page that arrived under another host name
// (http://127.0.0.1:8080 when the dashboard is http://localhost:8080) to the same path on
// the public URL, before any sign-in state is created. It is on only where Deps.CanonicalURL
// is set: `ctpdesk dev` sets it; production leaves host names to its reverse proxy, which may
// rewrite Host on its way in.
func (h *Handler) canonicalHost(next echo.HandlerFunc) echo.HandlerFunc {
	if h.canonical == nil {
		return next
	}
	want := strings.ToLower(h.canonical.Host)
	return func(c echo.Context) error {
		r := c.Request()
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && signInEntryPaths[r.URL.Path] &&
			strings.ToLower(r.Host) != want {
			target := url.URL{Scheme: h.canonical.Scheme, Host: h.canonical.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
			return c.Redirect(http.StatusFound, target.String())
		}
		return next(c)
	}
}
