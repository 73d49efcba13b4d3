package handlers

import (
	"context"
	"errors"
	"fmt"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/issuerdb"

	"github.com/labstack/echo/v4"
)

// Auditor records audit events; *audit.Trail implements it. Record returns only once the
// event is durably committed, and handlers call it before they write any customer data.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// userAgentLimit is how much of the User-Agent header the trail keeps.
const userAgentLimit = 256

// auditEvent builds an event about the current request: who (from the session), from where
// (the trusted client IP extractor), with which request id and user agent.
func auditEvent(c echo.Context, action audit.Action, outcome audit.Outcome, customerID string, details map[string]string) audit.Event {
	r := c.Request()
	e := audit.Event{
		Action:     action,
		Outcome:    outcome,
		CustomerID: customerID,
		Details:    details,
		ClientIP:   c.RealIP(),
		UserAgent:  r.UserAgent(),
		RequestID:  RequestID(r.Context()),
	}
	if len(e.UserAgent) > userAgentLimit {
		e.UserAgent = e.UserAgent[:userAgentLimit]
	}
	if u, ok := auth.UserFrom(r.Context()); ok {
		e.Actor = audit.Actor{Issuer: u.Issuer, Subject: u.Subject, Name: u.Name, Roles: u.RoleNames()}
	}
	return e
}

// record commits an audit event about the current request. Its error wraps
// audit.ErrUnavailable when the trail cannot be written, which the error handler turns into
// a 503 with no customer data: callers return it before rendering anything.
func (h *Handler) record(c echo.Context, action audit.Action, outcome audit.Outcome, customerID string, details map[string]string) error {
	if err := h.auditor.Record(c.Request().Context(), auditEvent(c, action, outcome, customerID, details)); err != nil {
		return fmt.Errorf("handlers: audit %s: %w", action, err)
	}
	return nil
}

// recordNotFound records, when err says no customer has the id asked for, that action failed
// (reason not_found). The id is not recorded: one typed into the address may be anything, an
// email address among them. It returns what the handler returns: err, or the trail's error
// when the failure could not be recorded.
func (h *Handler) recordNotFound(c echo.Context, action audit.Action, err error) error {
	if errors.Is(err, issuerdb.ErrNotFound) {
		if rerr := h.record(c, action, audit.Failure, "", map[string]string{"reason": "not_found"}); rerr != nil {
			return rerr
		}
	}
	return err
}
