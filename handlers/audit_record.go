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
// Begin queues the event and returns at once; its receipt's Wait is Record's answer, and a
// handler that begins an event writes nothing of what it describes before Wait returns nil.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
	Begin(ctx context.Context, e audit.Event) *audit.Receipt
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
	return h.begin(c, action, outcome, customerID, details).wait()
}

// recording is an audit event about the current request on its way into the trail. A nil
// recording is no event: waiting for it returns nil at once.
type recording struct {
	action  audit.Action
	receipt *audit.Receipt
	// refused, when set, turns the error of an event that may not be stored into the one the
	// handler returns.
	refused func(error) error
}

// begin queues an audit event about the current request and returns while it commits, so the
// handler can read and render what the event describes in the meantime. It must then call
// wait, and send nothing of it unless wait returns nil: renderRecorded and jsonRecorded do
// both.
func (h *Handler) begin(c echo.Context, action audit.Action, outcome audit.Outcome, customerID string, details map[string]string) *recording {
	return &recording{action: action, receipt: h.auditor.Begin(c.Request().Context(), auditEvent(c, action, outcome, customerID, details))}
}

// wait returns once the event is durable, or with record's error.
func (r *recording) wait() error {
	if r == nil {
		return nil
	}
	if err := r.receipt.Wait(); err != nil {
		err = fmt.Errorf("handlers: audit %s: %w", r.action, err)
		if r.refused != nil {
			return r.refused(err)
		}
		return err
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
