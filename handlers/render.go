package handlers

import (
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component with status. It renders into a buffer first so a template
// error becomes a clean 500 instead of half a page. The buffer is templ's pooled one: a page
// is tens of kilobytes, which would otherwise be grown afresh for every response.
func render(c echo.Context, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := component.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX says the request was made by htmx and expects a fragment.
func isHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true"
}

// wantsJSON says the client asked for the JSON twin of a page.
func wantsJSON(c echo.Context) bool {
	accept := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, echo.MIMEApplicationJSON) && !strings.Contains(accept, "text/html")
}

// varyOnFragment marks a response whose body depends on whether htmx or JSON was asked for, so
// no cache mixes a fragment, a page and JSON up.
func varyOnFragment(c echo.Context) {
	c.Response().Header().Add("Vary", "HX-Request")
	c.Response().Header().Add("Vary", "Accept")
}

// noStore marks a response that holds customer data: nothing may keep it.
func noStore(c echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
}
