package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"ctpdesk/audit"
	"ctpdesk/issuerdb"

	"github.com/labstack/echo/v4"
)

// RevealLimits bound how many reveals one agent (issuer and subject) may make: at most
// PerMinute in any minute and PerDay in any 24 hours. A reveal is one field with one reason,
// however many places on the page it fills in. They are counted by the audit trail from
// its own successful reveal events, inside the append, so every replica shares them and
// concurrent requests cannot slip past them.
type RevealLimits struct {
	PerMinute int
	PerDay    int
}

func (l RevealLimits) validate() error {
	if l.PerMinute < 1 || l.PerDay < l.PerMinute {
		return fmt.Errorf("handlers: reveal limits %d a minute and %d a day: want at least 1 a minute and no fewer a day", l.PerMinute, l.PerDay)
	}
	return nil
}

// audit returns the limits as the trail enforces them on a reveal event.
func (l RevealLimits) audit() []audit.Limit {
	return []audit.Limit{{Max: l.PerMinute, Window: time.Minute}, {Max: l.PerDay, Window: 24 * time.Hour}}
}

// revealLimitTitle is the heading of the page that refuses a reveal over the limit.
const revealLimitTitle = "Reveal limit reached"

// revealLimitMessage says which limit refused a reveal and when the agent may reveal again.
// The limits count reveals, not values: one reveal shows its field everywhere on the page.
func revealLimitMessage(le *audit.LimitError) string {
	per := "in 24 hours"
	if le.Limit.Window == time.Minute {
		per = "a minute"
	}
	return "You have made " + strconv.Itoa(le.Limit.Max) + " reveals " + per + ", the most allowed, so this value is not shown. " +
		"Try again in " + formatWait(le.RetryAfter) + ". The attempt was recorded."
}

// formatWait writes a wait for people: seconds under two minutes, then minutes, then hours
// and minutes. It rounds up, so trying again when told is never too early.
func formatWait(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	switch {
	case secs < 120:
		return strconv.Itoa(max(secs, 1)) + " s"
	case secs < 3600:
		return strconv.Itoa((secs+59)/60) + " min"
	}
	mins := (secs + 59) / 60
	if mins%60 == 0 {
		return strconv.Itoa(mins/60) + " h"
	}
	return strconv.Itoa(mins/60) + " h " + strconv.Itoa(mins%60) + " min"
}

// revealLimited answers a reveal the trail refused over a limit: 429 with Retry-After, and the
// control again with the message (htmx), or the message as a page or JSON. The refusal is
// already in the trail, which stored the reveal as a failure.
func (h *Handler) revealLimited(c echo.Context, in revealInput, le *audit.LimitError) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(le.RetryAfter.Seconds()))))
	problem := revealProblem{Message: revealLimitMessage(le)}
	if !isHTMX(c) {
		return userError(http.StatusTooManyRequests, revealLimitTitle, problem.Message)
	}
	return h.revealControlAgain(c, http.StatusTooManyRequests, in, problem)
}

// revealFailure is the failure code of a reveal whose value could not be looked up.
func revealFailure(err error) audit.RevealFailure {
	switch {
	case errors.Is(err, issuerdb.ErrNotFound):
		return audit.RevealUnknownCustomer
	case errors.Is(err, errRevealSourceUnknown):
		return audit.RevealNoProfile
	}
	return audit.RevealLookupFailed
}

// recordRevealFailure commits a failed reveal: its failure code, the refused input of a bad
// form, and of what the agent asked for only what passed its checks, so no free text and no
// value reaches the trail. customerID is the record's id once it was found, "" before: an id
// typed into the address may be anything.
func (h *Handler) recordRevealFailure(c echo.Context, in revealInput, customerID string, failure audit.RevealFailure, invalid string) error {
	details := map[string]string{audit.DetailFailure: string(failure)}
	if invalid != "" {
		details[audit.DetailInvalid] = invalid
	}
	if _, ok := revealFields[in.Field]; ok {
		details[audit.DetailField] = in.Field
	}
	if in.Source == revealIssuer || directoryPattern.MatchString(in.Source) {
		details[audit.DetailSource] = in.Source
	}
	if audit.CheckRevealReason(in.Reason, in.Reference) == nil {
		details[audit.DetailReason] = in.Reason
		if in.Reference != "" {
			details[audit.DetailReference] = in.Reference
		}
	}
	return h.record(c, audit.ActionReveal, audit.Failure, customerID, details)
}
