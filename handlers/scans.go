package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/scan"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// Scans is the portfolio scan as the pages use it; *scan.Scanner implements it.
type Scans interface {
	StartScan(ctx context.Context, req scan.StartRequest) (scan.Run, error)
	Cancel(ctx context.Context, id int64, by string) (scan.Run, error)
	Resume(ctx context.Context, id int64) (scan.Run, error)
	Runs(ctx context.Context, limit int) ([]scan.Progress, error)
	Worklist(ctx context.Context, q scan.WorklistQuery) (scan.WorklistPage, error)
	Decide(ctx context.Context, d scan.Decision) (scan.Item, error)
	Customer(ctx context.Context, customerID string, v scan.Viewer) (scan.CustomerStatus, error)
}

// scanRunsShown is how many runs /scans lists.
const scanRunsShown = 20

// scanTimeLayout writes scan and worklist times.
const scanTimeLayout = "2006-01-02 15:04 UTC"

// Scans is the page of portfolio scans (GET /scans, fraud analysts): every recent run with its
// progress, and the Start button. htmx polls it for the runs table while a scan runs.
func (h *Handler) Scans(c echo.Context) error {
	varyOnFragment(c)
	noStore(c)
	runs, err := h.scans.Runs(c.Request().Context(), scanRunsShown)
	if err != nil {
		return err
	}
	var rec *recording
	if !isHTMX(c) {
		// The page itself is a read of the scans; its polls are not recorded again. It is
		// rendered while the event commits, and sent once it is durable.
		rec = h.begin(c, audit.ActionScansView, audit.Success, "", map[string]string{"runs": strconv.Itoa(len(runs))})
	}
	view := scansPageView(runs, h.now())
	switch {
	case wantsJSON(c):
		return jsonRecorded(c, rec, http.StatusOK, view)
	case isHTMX(c):
		return render(c, http.StatusOK, views.ScanRuns(auth.CSRFTokenFrom(c.Request().Context()), view))
	}
	b := h.base(c, "Portfolio scans")
	b.Nav = "scans"
	return renderRecorded(c, rec, http.StatusOK, views.Scans(b, view))
}

// StartScan starts an on-demand scan of the whole portfolio (POST /scans).
func (h *Handler) StartScan(c echo.Context) error {
	u, _ := auth.UserFrom(c.Request().Context())
	run, err := h.scans.StartScan(c.Request().Context(), scan.StartRequest{Trigger: scan.TriggerAnalyst, By: u.Subject, ByName: u.Name})
	if err != nil {
		return err
	}
	if err := h.record(c, audit.ActionScanStart, audit.Success, "", map[string]string{"scan": strconv.FormatInt(run.ID, 10)}); err != nil {
		return err
	}
	return h.afterScanChange(c, run)
}

// CancelScan cancels a running scan (POST /scans/:id/cancel).
func (h *Handler) CancelScan(c echo.Context) error {
	u, _ := auth.UserFrom(c.Request().Context())
	return h.changeScan(c, audit.ActionScanCancel, func(ctx context.Context, id int64) (scan.Run, error) {
		return h.scans.Cancel(ctx, id, u.Subject)
	})
}

// ResumeScan continues a cancelled scan (POST /scans/:id/resume).
func (h *Handler) ResumeScan(c echo.Context) error {
	return h.changeScan(c, audit.ActionScanResume, h.scans.Resume)
}

// changeScan applies a change to the scan named by :id and records it.
func (h *Handler) changeScan(c echo.Context, action audit.Action, change func(context.Context, int64) (scan.Run, error)) error {
	id, err := scanID(c)
	if err != nil {
		return err
	}
	run, err := change(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.record(c, action, audit.Success, "", map[string]string{"scan": strconv.FormatInt(run.ID, 10)}); err != nil {
		return err
	}
	return h.afterScanChange(c, run)
}

// afterScanChange answers a start, cancel or resume: the run as JSON for scripts, else back
// to /scans (303, so a reload does not post again).
func (h *Handler) afterScanChange(c echo.Context, run scan.Run) error {
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]any{"id": run.ID, "state": run.State})
	}
	return c.Redirect(http.StatusSeeOther, "/scans")
}

// scanID reads the :id of a scan route.
func scanID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, userError(http.StatusNotFound, "Not found", "There is no scan with this id.")
	}
	return id, nil
}

// scansPageView builds /scans from the runs, newest first.
func scansPageView(runs []scan.Progress, now time.Time) views.ScansPage {
	v := views.ScansPage{CanStart: true}
	for _, p := range runs {
		if p.State == scan.StateRunning {
			v.CanStart, v.Polling = false, true
		}
	}
	for _, p := range runs {
		v.Runs = append(v.Runs, scanRunView(p, v.CanStart))
	}
	return v
}

// scanRunView is one run's row; canResume says no other scan runs.
func scanRunView(p scan.Progress, canResume bool) views.ScanRun {
	r := views.ScanRun{
		ID: p.ID, State: p.State, StateText: views.ScanStateText(p.State), Trigger: string(p.Trigger),
		StartedBy: p.StartedByName, StartedAt: p.CreatedAt.UTC().Format(scanTimeLayout),
		Done: p.Done, Total: p.Total, CallsPerSecond: strconv.FormatFloat(p.CallsPerSecond, 'f', 1, 64),
		CanCancel: p.State == scan.StateRunning, CanResume: p.State == scan.StateCancelled && canResume,
	}
	if r.StartedBy == "" {
		r.StartedBy = p.StartedBy
	}
	if p.Total > 0 {
		r.Percent = min(100, p.Done*100/p.Total)
	}
	if !p.EstimatedEnd.IsZero() {
		r.EstimatedEnd = p.EstimatedEnd.UTC().Format(scanTimeLayout)
	}
	switch {
	case !p.FinishedAt.IsZero():
		r.EndedAt = p.FinishedAt.UTC().Format(scanTimeLayout)
	case !p.CancelledAt.IsZero():
		r.EndedAt = p.CancelledAt.UTC().Format(scanTimeLayout)
	}
	r.Meta = views.ScanRunMeta(r.StartedAt, r.StartedBy, r.Trigger, r.EndedAt)
	for _, class := range p.ErrorClasses() {
		r.Errors = append(r.Errors, views.Count{Key: class, Label: views.ErrorClassText(class), N: p.Errors[class]})
	}
	if p.State != scan.StateRunning {
		s := &views.ScanSummary{Checked: p.Done, WithDifferences: p.WithDifferences, WithRisks: p.WithRisks,
			Unavailable: p.Unavailable, NotRegistered: p.NotRegistered}
		for _, k := range scan.RiskKinds() {
			s.RiskKinds = append(s.RiskKinds, views.Count{Key: k, Label: views.FindingKindText(k), N: p.Kinds[k]})
		}
		r.Summary = s
	}
	return r
}

// viewerOf is whose worklist the signed-in user sees: fraud analysts every finding, agents the
// data-quality part.
func viewerOf(c echo.Context) scan.Viewer {
	u, _ := auth.UserFrom(c.Request().Context())
	if u.Has(auth.RoleFraud) {
		return scan.ViewerFraud
	}
	return scan.ViewerAgent
}

// decisionChoices are the state and reason pairs of the decision control.
func decisionChoices() []views.DecisionChoice {
	var out []views.DecisionChoice
	for _, st := range scan.ItemStates() {
		for _, r := range scan.Reasons(st) {
			out = append(out, views.DecisionChoice{Value: st + ":" + r, Label: views.ItemStateText(st) + ": " + views.ReasonText(r)})
		}
	}
	return out
}

// decisionForm is the decision control of one item.
func decisionForm(customerID, returnTo, csrf string) views.DecisionForm {
	return views.DecisionForm{
		Action: "/worklist/" + url.PathEscape(customerID) + "/decision", CSRFToken: csrf, ReturnTo: returnTo,
		Choices: decisionChoices(),
	}
}
