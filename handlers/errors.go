package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/issuerdb"
	"ctpdesk/scan"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// errorKind is how one sentinel error is shown to the user.
type errorKind struct {
	err     error
	status  int
	title   string
	message string
}

// errorKinds maps the sentinel errors of the packages below handlers to responses. Anything not
// listed is a 500 with a generic message and the request id; the details go to the log only.
var errorKinds = []errorKind{
	{issuerdb.ErrNotFound, http.StatusNotFound, "Not found", "There is no customer with this id."},
	{issuerdb.ErrInvalidQuery, http.StatusBadRequest, "Search not possible", "This search cannot be run: change the search text."},
	{audit.ErrUnavailable, http.StatusServiceUnavailable, "Not available right now",
		"This access could not be recorded in the audit trail, so the data is not shown. Try again in a moment."},
	// After audit.ErrUnavailable: a trail that failed because its database did says so.
	{auth.ErrUnavailable, http.StatusServiceUnavailable, "Not available right now",
		"ctpdesk's database is not answering, so nothing was shown or changed. Try again in a moment."},
	{audit.ErrBadFilter, http.StatusBadRequest, "Bad filter", "The audit trail cannot be filtered this way."},
	{scan.ErrNotFound, http.StatusNotFound, "Not found", "There is no such scan or worklist item."},
	{scan.ErrConflict, http.StatusConflict, "Not possible now", "A scan is already running, or this scan has ended: reload the page."},
	{scan.ErrInvalid, http.StatusBadRequest, "Not possible", "This request cannot be carried out: choose values from the page."},
	{auth.ErrForbidden, http.StatusForbidden, "Access denied", "Your role does not give access to this page. The attempt was recorded."},
	{auth.ErrCSRF, http.StatusForbidden, "Request refused",
		"This request did not carry ctpdesk's security token, so nothing was changed. Reload the page and try again."},
}

// pageError is an error a handler returns when it already knows what the user should read.
type pageError struct {
	status  int
	title   string
	message string
}

func (e *pageError) Error() string { return e.title + ": " + e.message }

// userError returns an error that renders as status with a message meant for the user.
func userError(status int, title, message string) error {
	return &pageError{status: status, title: title, message: message}
}

// HandleError is the one place where errors become responses: a full page, an htmx fragment or
// JSON, always with the request id, never with internal details.
func (h *Handler) HandleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := h.describe(err)
	e.RequestID = requestID(c)
	log := Logger(c.Request().Context(), h.log)
	if e.Status >= 500 {
		log.Error("request failed", slog.String("route", c.Path()), slog.Int("status", e.Status), slog.String("error", err.Error()))
	}
	var werr error
	switch {
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(e.Status)
	case wantsJSON(c):
		werr = c.JSON(e.Status, map[string]string{"error": e.Title, "message": e.Message, "request_id": e.RequestID})
	case isHTMX(c):
		werr = render(c, e.Status, views.ErrorBody(e))
	default:
		werr = render(c, e.Status, views.Error(h.base(c, e.Title), e))
	}
	if werr != nil {
		log.Error("writing error response", slog.String("error", werr.Error()))
	}
}

// describe turns an error into what the user sees.
func (h *Handler) describe(err error) views.ErrorPage {
	var pe *pageError
	if errors.As(err, &pe) {
		return views.ErrorPage{Status: pe.status, Title: pe.title, Message: pe.message}
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return views.ErrorPage{Status: k.status, Title: k.title, Message: k.message}
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return views.ErrorPage{Status: he.Code, Title: "Page not found", Message: "There is nothing at this address."}
		case http.StatusMethodNotAllowed:
			return views.ErrorPage{Status: he.Code, Title: "Method not allowed", Message: "This address does not accept that kind of request."}
		case http.StatusRequestEntityTooLarge:
			return views.ErrorPage{Status: he.Code, Title: "Request too large", Message: "The request was larger than ctpdesk accepts."}
		case http.StatusBadRequest:
			return views.ErrorPage{Status: he.Code, Title: "Bad request", Message: "The request could not be understood."}
		}
		if he.Code >= 400 && he.Code < 500 {
			return views.ErrorPage{Status: he.Code, Title: http.StatusText(he.Code), Message: "The request was refused."}
		}
	}
	return views.ErrorPage{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "ctpdesk could not complete this request. If it happens again, give the request id below to support."}
}
