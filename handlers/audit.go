package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ctpdesk/audit"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// AuditTrail is the audit trail as the auditors' pages read it; *audit.Trail implements it.
type AuditTrail interface {
	Query(ctx context.Context, f audit.Filter) (audit.ResultPage, error)
	ExportCSV(ctx context.Context, w io.Writer, f audit.Filter) (int, error)
	Status(ctx context.Context) (audit.VerifyReport, error)
}

// auditTimeLayouts are the forms a time filter may take: what <input type=datetime-local>
// sends, a plain date, or RFC 3339 from a script. Times without a zone are UTC.
var auditTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339}

// parseAuditFilter reads the filter of /audit and /audit/export from the query string. The
// form echoes what was typed, so a refused value can be corrected in place.
func parseAuditFilter(q url.Values) (audit.Filter, views.AuditFilterForm, error) {
	form := views.AuditFilterForm{
		Actor:      strings.TrimSpace(q.Get("actor")),
		CustomerID: strings.TrimSpace(q.Get("customer")),
		Action:     q.Get("action"),
		Outcome:    q.Get("outcome"),
		From:       strings.TrimSpace(q.Get("from")),
		To:         strings.TrimSpace(q.Get("to")),
	}
	form.Actions, form.Outcomes = auditOptions(form.Action, form.Outcome)
	f := audit.Filter{Actor: form.Actor, CustomerID: form.CustomerID, Action: audit.Action(form.Action), Outcome: audit.Outcome(form.Outcome)}
	bad := func(msg string) (audit.Filter, views.AuditFilterForm, error) {
		return audit.Filter{}, form, userError(http.StatusBadRequest, "Bad filter", msg)
	}
	switch {
	case len(form.Actor) > 255 || strings.ContainsFunc(form.Actor, isControl):
		return bad("The actor must be a subject or name of at most 255 characters.")
	case len(form.CustomerID) > 128 || strings.ContainsFunc(form.CustomerID, isControl):
		return bad("The customer id must be at most 128 characters.")
	case form.Action != "" && !audit.ValidAction(f.Action):
		return bad("Choose an action from the list.")
	case form.Outcome != "" && f.Outcome != audit.Success && f.Outcome != audit.Failure:
		return bad("The outcome must be success or failure.")
	}
	var err error
	if f.From, err = parseAuditTime(form.From); err != nil {
		return bad("The start time must look like 2026-01-31T09:00 (UTC).")
	}
	if f.To, err = parseAuditTime(form.To); err != nil {
		return bad("The end time must look like 2026-01-31T17:00 (UTC).")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return bad("The time range ends before it starts.")
	}
	if raw := q.Get("before"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			return bad("The page cursor is not valid; start again from the newest events.")
		}
		f.Before = n
	}
	return f, form, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func parseAuditTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range auditTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			if t.Year() < 2000 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("handlers: bad time")
}

func auditOptions(action, outcome string) (actions, outcomes []views.Option) {
	for _, a := range audit.Actions() {
		actions = append(actions, views.Option{Value: string(a), Label: string(a), Selected: string(a) == action})
	}
	for _, o := range []audit.Outcome{audit.Success, audit.Failure} {
		outcomes = append(outcomes, views.Option{Value: string(o), Label: string(o), Selected: string(o) == outcome})
	}
	return actions, outcomes
}

// auditQuery is the query string of a filtered view, with a page cursor when before > 0.
func auditQuery(form views.AuditFilterForm, before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": form.Actor, "customer": form.CustomerID, "action": form.Action,
		"outcome": form.Outcome, "from": form.From, "to": form.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// auditFilterDetails says, for the trail, how the auditor filtered: the filter names used and
// the action and outcome chosen. The actor and time values are left out; the customer id goes
// into the event's customer field.
func auditFilterDetails(f audit.Filter, form views.AuditFilterForm) map[string]string {
	var used []string
	for _, p := range []struct{ name, value string }{{"actor", form.Actor}, {"customer", form.CustomerID},
		{"action", form.Action}, {"outcome", form.Outcome}, {"from", form.From}, {"to", form.To}} {
		if p.value != "" {
			used = append(used, p.name)
		}
	}
	d := map[string]string{}
	if len(used) > 0 {
		d["filters"] = strings.Join(used, ",")
	}
	if f.Action != "" {
		d["action"] = string(f.Action)
	}
	if f.Outcome != "" {
		d["outcome"] = string(f.Outcome)
	}
	if f.Before > 0 {
		d["before"] = strconv.FormatInt(f.Before, 10)
	}
	return d
}

// auditPageView builds the page's view model from one page of events and the chain status.
func auditPageView(form views.AuditFilterForm, f audit.Filter, page audit.ResultPage, rep audit.VerifyReport, statusErr error) views.AuditPage {
	v := views.AuditPage{Filter: form, ExportURL: "/audit/export" + auditQuery(form, 0)}
	switch {
	case errors.Is(statusErr, audit.ErrStatusPending):
		v.Chain = views.ChainStatus{State: "unknown", Text: "the chain is being verified; reload in a moment."}
	case statusErr != nil:
		v.Chain = views.ChainStatus{State: "unknown", Text: "the chain could not be checked just now."}
	case rep.OK():
		v.Chain = views.ChainStatus{State: "verified", Text: rep.String()}
	default:
		v.Chain = views.ChainStatus{State: "broken", Text: rep.String()}
	}
	if statusErr == nil && !rep.CheckedAt.IsZero() {
		v.Chain.CheckedAt = rep.CheckedAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
	for _, e := range page.Events {
		// What the trail recorded came from identity providers, browsers and forms: control
		// and direction characters are shown as code points, so an auditor reads it as stored.
		row := views.AuditRow{
			Seq: e.Seq, Time: e.Time.UTC().Format("2006-01-02 15:04:05.000"),
			ActorName: cleanText(e.Actor.Name), ActorSubject: cleanText(e.Actor.Subject), ActorIssuer: cleanText(e.Actor.Issuer),
			Roles: cleanText(strings.Join(e.Actor.Roles, ", ")), Action: string(e.Action), Outcome: string(e.Outcome),
			CustomerID: cleanText(e.CustomerID), Details: cleanText(audit.FormatDetails(e.Details)), ClientIP: e.ClientIP,
			UserAgent: cleanText(e.UserAgent), RequestID: cleanText(e.RequestID), Hash: e.Hash, HashShort: e.Hash[:min(12, len(e.Hash))],
		}
		if e.CustomerID != "" {
			row.CustomerURL = "/audit" + auditQuery(views.AuditFilterForm{CustomerID: e.CustomerID}, 0)
		}
		v.Rows = append(v.Rows, row)
	}
	if page.NextBefore > 0 {
		v.NextURL = "/audit" + auditQuery(form, page.NextBefore)
	}
	if f.Before > 0 {
		v.FirstURL = "/audit" + auditQuery(form, 0)
	}
	return v
}

// Audit is the auditors' page (GET /audit): filters, one page of events and the chain
// status. Reading the trail is itself recorded, before anything is shown.
func (h *Handler) Audit(c echo.Context) error {
	varyOnFragment(c)
	noStore(c)
	f, form, err := parseAuditFilter(c.QueryParams())
	if err != nil {
		return err
	}
	if err := h.record(c, audit.ActionAuditRead, audit.Success, f.CustomerID, auditFilterDetails(f, form)); err != nil {
		return err
	}
	ctx := c.Request().Context()
	page, err := h.auditTrail.Query(ctx, f)
	if err != nil {
		return err
	}
	rep, statusErr := h.auditTrail.Status(ctx)
	if statusErr != nil && !errors.Is(statusErr, audit.ErrStatusPending) {
		Logger(ctx, h.log).Error("audit chain status", slog.String("error", statusErr.Error()))
	}
	view := auditPageView(form, f, page, rep, statusErr)
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, view)
	}
	b := h.base(c, "Audit trail")
	b.Nav = "audit"
	return render(c, http.StatusOK, views.Audit(b, view))
}

// AuditExport downloads the filtered events as CSV (GET /audit/export). The export is
// recorded before the first byte is sent. A failure halfway aborts the connection, so the
// auditor gets a failed download rather than a file that silently stops short.
func (h *Handler) AuditExport(c echo.Context) error {
	noStore(c)
	f, form, err := parseAuditFilter(c.QueryParams())
	if err != nil {
		return err
	}
	f.Before = 0
	if err := h.record(c, audit.ActionAuditExport, audit.Success, f.CustomerID, auditFilterDetails(f, form)); err != nil {
		return err
	}
	name := "ctpdesk-audit-" + h.now().UTC().Format("20060102T150405Z") + ".csv"
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	n, err := h.auditTrail.ExportCSV(c.Request().Context(), c.Response(), f)
	if err != nil {
		Logger(c.Request().Context(), h.log).Error("audit export failed", slog.Int("rows", n), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	return nil
}
