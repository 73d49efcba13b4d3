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
	return renderRecorded(c, nil, status, component)
}

// renderRecorded renders a templ component while rec commits and writes it with status only
// once rec is durable: the page is made during the commit's wait instead of after it, and
// nothing of it leaves when the event may not be stored (rec's error is returned, which the
// error handler turns into a page without customer data).
func renderRecorded(c echo.Context, rec *recording, status int, component templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	rerr := component.Render(c.Request().Context(), buf)
	if err := rec.wait(); err != nil {
		return err
	}
	if rerr != nil {
		return rerr
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// jsonRecorded writes v as JSON with status once rec is durable.
func jsonRecorded(c echo.Context, rec *recording, status int, v any) error {
	if err := rec.wait(); err != nil {
		return err
	}
	return c.JSON(status, v)
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
