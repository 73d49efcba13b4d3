package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
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
	RecentActors(ctx context.Context, limit int) ([]audit.Person, error)
	NoteSignIn(ctx context.Context, p audit.Person) error
}

// actorSuggestions is how many recent actors the actor filter suggests.
const actorSuggestions = 30

// auditPageView builds the page's view model from one page of events and the chain status.
func auditPageView(form views.AuditFilterForm, f audit.Filter, page audit.ResultPage, rep audit.VerifyReport, statusErr error) views.AuditPage {
	v := views.AuditPage{Filter: form, ExportURL: "/audit/export" + auditQuery(form, 0), History: f.CustomerID}
	v.Range = timeRange(f.From, f.To)
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
		v.Chain.CheckedAt = formatAuditTime(rep.CheckedAt, false)
	}
	for _, e := range page.Events {
		// What the trail recorded came from identity providers, browsers and forms: control
		// and direction characters are shown as code points, so an auditor reads it as stored.
		row := views.AuditRow{
			Seq: e.Seq, Time: formatAuditTime(e.Time, true),
			ActorName: cleanText(e.Actor.Name), ActorSubject: cleanText(e.Actor.Subject), ActorIssuer: cleanText(e.Actor.Issuer),
			Roles: cleanText(strings.Join(e.Actor.Roles, ", ")), Action: string(e.Action), Outcome: string(e.Outcome),
			CustomerID: cleanText(e.CustomerID), Details: cleanText(audit.FormatDetails(e.Details)), ClientIP: e.ClientIP,
			UserAgent: cleanText(e.UserAgent), RequestID: cleanText(e.RequestID), Hash: e.Hash, HashShort: e.Hash[:min(12, len(e.Hash))],
		}
		if e.CustomerID != "" && e.CustomerID != f.CustomerID {
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

// timeRange says which times a filter covers, in the page's ISO 8601 UTC form; "" for all.
func timeRange(from, to time.Time) string {
	switch {
	case from.IsZero() && to.IsZero():
		return ""
	case to.IsZero():
		return "from " + formatAuditTime(from, false)
	case from.IsZero():
		return "before " + formatAuditTime(to, false)
	}
	return "from " + formatAuditTime(from, false) + " to before " + formatAuditTime(to, false)
}

// actorOptions are the actor filter's suggestions: each recent actor's subject, labelled with
// their name and email. A trail that cannot list them only leaves the suggestions out.
func (h *Handler) actorOptions(c echo.Context) []views.Option {
	ctx := c.Request().Context()
	actors, err := h.auditTrail.RecentActors(ctx, actorSuggestions)
	if err != nil {
		Logger(ctx, h.log).Warn("audit actor suggestions", slog.String("error", err.Error()))
		return nil
	}
	opts := make([]views.Option, 0, len(actors))
	for _, a := range actors {
		label := cleanText(a.Name)
		if a.Email != "" {
			label += " · " + cleanText(a.Email)
		}
		opts = append(opts, views.Option{Value: a.Subject, Label: label})
	}
	return opts
}

// refusedFilter answers a filter that cannot run: 400 with the reason, and on the page the
// form again with what was typed, the field at fault marked.
func (h *Handler) refusedFilter(c echo.Context, form views.AuditFilterForm, p *filterProblem) error {
	form.Invalid = p.Field
	v := views.AuditPage{Filter: form, Problem: p.Message, ExportURL: "/audit/export" + auditQuery(form, 0)}
	return h.renderAudit(c, http.StatusBadRequest, v)
}

// renderAudit sends the auditors' page, or its JSON twin; the page suggests actors.
func (h *Handler) renderAudit(c echo.Context, status int, v views.AuditPage) error {
	if wantsJSON(c) {
		return c.JSON(status, v)
	}
	v.Filter.ActorOptions = h.actorOptions(c)
	b := h.base(c, "Audit trail")
	b.Nav = "audit"
	return render(c, status, views.Audit(b, v))
}

// Audit is the auditors' page (GET /audit): filters, one page of events and the chain
// status; with a customer id, that customer's access history. Reading the trail is itself
// recorded, before anything is shown.
func (h *Handler) Audit(c echo.Context) error {
	varyOnFragment(c)
	noStore(c)
	f, form, err := parseAuditFilter(c.QueryParams())
	if p, ok := problemStatus(err); ok {
		return h.refusedFilter(c, form, p)
	}
	if err := h.record(c, audit.ActionAuditRead, audit.Success, f.CustomerID, auditFilterDetails(f, form)); err != nil {
		return err
	}
	ctx := c.Request().Context()
	page, err := h.auditTrail.Query(ctx, f)
	if p, ok := problemStatus(err); ok {
		return h.refusedFilter(c, form, p)
	}
	if err != nil {
		return err
	}
	rep, statusErr := h.auditTrail.Status(ctx)
	if statusErr != nil && !errors.Is(statusErr, audit.ErrStatusPending) {
		Logger(ctx, h.log).Error("audit chain status", slog.String("error", statusErr.Error()))
	}
	return h.renderAudit(c, http.StatusOK, auditPageView(form, f, page, rep, statusErr))
}

// AuditExport downloads the filtered events as CSV (GET /audit/export). The export is
// recorded before the first byte is sent. A filter the trail refuses before writing anything
// is a 400; a failure halfway aborts the connection, so the auditor gets a failed download
// rather than a file that silently stops short.
func (h *Handler) AuditExport(c echo.Context) error {
	noStore(c)
	f, form, err := parseAuditFilter(c.QueryParams())
	if p, ok := problemStatus(err); ok {
		return h.refusedFilter(c, form, p)
	}
	f.Before = 0
	if err := h.record(c, audit.ActionAuditExport, audit.Success, f.CustomerID, auditFilterDetails(f, form)); err != nil {
		return err
	}
	name := "ctpdesk-audit-" + h.now().UTC().Format("20060102T150405Z") + ".csv"
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	// The status goes out with the first bytes the export writes, so a filter refused before
	// that still gets its 400.
	n, err := h.auditTrail.ExportCSV(c.Request().Context(), c.Response(), f)
	if err != nil && !c.Response().Committed {
		hd.Del(echo.HeaderContentDisposition)
		if p, ok := problemStatus(err); ok {
			return h.refusedFilter(c, form, p)
		}
		return err
	}
	if err != nil {
		Logger(c.Request().Context(), h.log).Error("audit export failed", slog.Int("rows", n), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	return nil
}
