package handlers

import (
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/scan"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// worklistPageSize is the rows of one worklist page; worklistExportMax bounds one export.
const (
	worklistPageSize  = 50
	worklistExportMax = 100_000
)

// worklistTruncatedMarker is the last row of an export that stopped at worklistExportMax with
// more items matching, so that a file cut short never passes for the whole worklist.
const worklistTruncatedMarker = "# export truncated: more than 100000 items match; narrow the filter and export again"

// parseWorklistFilter reads the worklist's filter from the query string; "me" as assignee is
// the signed-in user.
func parseWorklistFilter(c echo.Context) (scan.WorklistQuery, views.WorklistFilter, error) {
	q := c.QueryParams()
	form := views.WorklistFilter{
		Kind: q.Get("kind"), Severity: q.Get("severity"), Directory: strings.ToUpper(strings.TrimSpace(q.Get("directory"))),
		State: q.Get("state"), Changed: q.Get("changed") == "1", Assignee: q.Get("assignee"),
	}
	wq := scan.WorklistQuery{
		Viewer: viewerOf(c), Kind: form.Kind, Severity: form.Severity, Directory: form.Directory, State: form.State,
		Changed: form.Changed, After: q.Get("after"), Limit: worklistPageSize,
	}
	switch form.Assignee {
	case "":
	case "me":
		u, _ := auth.UserFrom(c.Request().Context())
		wq.Assignee = u.Subject
	case "none":
		wq.Assignee = scan.AssigneeNone
	default:
		return wq, form, userError(http.StatusBadRequest, "Bad filter", "Decided by must be me, nobody or anyone.")
	}
	if wq.Viewer == scan.ViewerAgent && wq.Kind != "" && !slices.Contains(scan.DataQualityKinds(), wq.Kind) {
		return wq, form, userError(http.StatusBadRequest, "Bad filter", "Choose a finding from the list.")
	}
	if err := wq.Validate(); err != nil {
		return wq, form, userError(http.StatusBadRequest, "Bad filter", "The worklist cannot be filtered this way: choose values from the lists.")
	}
	kinds := scan.DataQualityKinds()
	if wq.Viewer == scan.ViewerFraud {
		kinds = append(scan.RiskKinds(), kinds...)
		for _, s := range []string{scan.SeverityRisk, scan.SeverityWarn} {
			form.Severities = append(form.Severities, views.Option{Value: s, Label: s, Selected: s == form.Severity})
		}
	}
	for _, k := range kinds {
		form.Kinds = append(form.Kinds, views.Option{Value: k, Label: views.FindingKindText(k), Selected: k == form.Kind})
	}
	for _, s := range scan.ItemStates() {
		form.States = append(form.States, views.Option{Value: s, Label: views.ItemStateText(s), Selected: s == form.State})
	}
	for _, a := range []views.Option{{Value: "", Label: "Anyone"}, {Value: "me", Label: "Me"}, {Value: "none", Label: "Nobody yet"}} {
		a.Selected = a.Value == form.Assignee
		form.Assignees = append(form.Assignees, a)
	}
	return wq, form, nil
}

// worklistQueryString is the query string of a filtered view, with a cursor when after is set.
func worklistQueryString(f views.WorklistFilter, after string) string {
	q := url.Values{}
	for k, v := range map[string]string{"kind": f.Kind, "severity": f.Severity, "directory": f.Directory, "state": f.State, "assignee": f.Assignee, "after": after} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Changed {
		q.Set("changed", "1")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// worklistDetails says, for the trail, how the worklist was filtered and how many items it
// held: filter names and codes, no customer data.
func worklistDetails(q scan.WorklistQuery, f views.WorklistFilter, page scan.WorklistPage) map[string]string {
	total := strconv.Itoa(page.Total)
	if page.Capped {
		total += "+"
	}
	d := map[string]string{"viewer": string(q.Viewer), "total": total}
	var used []string
	for _, p := range []struct{ name, value string }{{"kind", f.Kind}, {"severity", f.Severity}, {"directory", f.Directory},
		{"state", f.State}, {"assignee", f.Assignee}} {
		if p.value != "" {
			used = append(used, p.name)
			d[p.name] = p.value
		}
	}
	if f.Changed {
		used = append(used, "changed")
	}
	if len(used) > 0 {
		d["filters"] = strings.Join(used, ",")
	}
	return d
}

// worklistPageView builds the worklist page from one page of items.
func worklistPageView(form views.WorklistFilter, q scan.WorklistQuery, page scan.WorklistPage, csrf string) views.WorklistPage {
	self := "/worklist" + worklistQueryString(form, q.After)
	v := views.WorklistPage{Filter: form, Total: page.Total, Capped: page.Capped, RiskView: q.Viewer == scan.ViewerFraud,
		ExportURL: "/worklist/export" + worklistQueryString(form, "")}
	for _, it := range page.Items {
		row := views.WorklistItem{
			CustomerID: it.CustomerID, CustomerURL: "/customers/" + url.PathEscape(it.CustomerID), Severity: it.Severity,
			Kinds: it.Kinds, Directories: it.Directories, State: it.State, StateText: views.ItemStateText(it.State),
			Reason: it.Reason, DecidedBy: it.DecidedByName, LastScanned: it.LastScannedAt.Format(scanTimeLayout),
			Changed: it.Changed, Reopened: !it.ReopenedAt.IsZero() && it.State == scan.ItemOpen,
			Decide: decisionForm(it.CustomerID, self, csrf),
		}
		if !it.DecidedAt.IsZero() {
			row.DecidedAt = it.DecidedAt.Format(scanTimeLayout)
		}
		for _, k := range it.Kinds {
			row.KindLabels = append(row.KindLabels, views.FindingKindText(k))
		}
		v.Items = append(v.Items, row)
	}
	if page.Next != "" {
		v.NextURL = "/worklist" + worklistQueryString(form, page.Next)
	}
	if q.After != "" {
		v.FirstURL = "/worklist" + worklistQueryString(form, "")
	}
	return v
}

// Worklist is the worklist (GET /worklist): fraud analysts see every finding, agents the
// data-quality differences. Each view is recorded with its filter and count before it is sent.
func (h *Handler) Worklist(c echo.Context) error {
	varyOnFragment(c)
	noStore(c)
	q, form, err := parseWorklistFilter(c)
	if err != nil {
		return err
	}
	page, err := h.scans.Worklist(c.Request().Context(), q)
	if errors.Is(err, scan.ErrInvalid) {
		return userError(http.StatusBadRequest, "Bad filter", "The link to this page is damaged or out of date: filter again.")
	}
	if err != nil {
		return err
	}
	// The page is rendered while the event commits, and sent once it is durable.
	rec := h.begin(c, audit.ActionWorklistView, audit.Success, "", worklistDetails(q, form, page))
	view := worklistPageView(form, q, page, auth.CSRFTokenFrom(c.Request().Context()))
	if wantsJSON(c) {
		return jsonRecorded(c, rec, http.StatusOK, view)
	}
	b := h.base(c, "Worklist")
	b.Nav = "worklist"
	return renderRecorded(c, rec, http.StatusOK, views.Worklist(b, view))
}

// WorklistExport downloads what the filter shows as CSV (GET /worklist/export), recorded
// before the first byte. Cells that a spreadsheet would run as a formula are defused.
func (h *Handler) WorklistExport(c echo.Context) error {
	noStore(c)
	q, form, err := parseWorklistFilter(c)
	if err != nil {
		return err
	}
	q.After, q.Limit = "", scan.MaxWorklistPage
	ctx := c.Request().Context()
	first, err := h.scans.Worklist(ctx, q)
	if err != nil {
		return err
	}
	details := worklistDetails(q, form, first)
	if err := h.record(c, audit.ActionWorklistExport, audit.Success, "", details); err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="ctpdesk-worklist-`+h.now().UTC().Format("20060102T150405Z")+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"customer_id", "severity", "findings", "directories", "state", "reason", "decided_by", "decided_at", "last_scanned", "changed"})
	page, rows, truncated := first, 0, false
	for {
		for _, it := range page.Items {
			if rows >= worklistExportMax {
				truncated = true
				break
			}
			decided := ""
			if !it.DecidedAt.IsZero() {
				decided = it.DecidedAt.Format(scanTimeLayout)
			}
			rec := []string{it.CustomerID, it.Severity, strings.Join(it.Kinds, " "), strings.Join(it.Directories, " "), it.State,
				it.Reason, it.DecidedByName, decided, it.LastScannedAt.Format(scanTimeLayout), strconv.FormatBool(it.Changed)}
			for i := range rec {
				rec[i] = defuseFormula(rec[i])
			}
			_ = w.Write(rec)
			rows++
		}
		if page.Next == "" || truncated {
			break
		}
		q.After = page.Next
		if page, err = h.scans.Worklist(ctx, q); err != nil {
			Logger(ctx, h.log).Error("worklist export failed", slog.Int("rows", rows), slog.String("error", err.Error()))
			panic(http.ErrAbortHandler)
		}
	}
	if truncated {
		_ = w.Write([]string{worklistTruncatedMarker})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		Logger(ctx, h.log).Error("worklist export failed", slog.Int("rows", rows), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	return nil
}

// defuseFormula keeps a spreadsheet from evaluating a cell: a value starting with '=', '+',
// '-', '@', a tab or a carriage return gets an apostrophe in front.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// DecideItem records a decision on a worklist item (POST /worklist/:id/decision), recorded in
// the trail with its state and reason code, then goes back to where the form was.
func (h *Handler) DecideItem(c echo.Context) error {
	customerID := c.Param("id")
	state, reason, ok := strings.Cut(c.FormValue("decision"), ":")
	if !ok || !slices.Contains(scan.ItemStates(), state) || !slices.Contains(scan.Reasons(state), reason) {
		return userError(http.StatusBadRequest, "Decision not possible", "Choose a decision from the list.")
	}
	u, _ := auth.UserFrom(c.Request().Context())
	details := map[string]string{"state": state, "reason": reason}
	if err := h.record(c, audit.ActionWorklistDecision, audit.Success, customerID, details); err != nil {
		return err
	}
	it, err := h.scans.Decide(c.Request().Context(), scan.Decision{CustomerID: customerID, State: state, Reason: reason,
		By: u.Subject, ByName: u.Name, Viewer: viewerOf(c)})
	if err != nil {
		details["error"] = "not_applied"
		if rerr := h.record(c, audit.ActionWorklistDecision, audit.Failure, customerID, details); rerr != nil {
			return rerr
		}
		if errors.Is(err, scan.ErrNotFound) {
			return userError(http.StatusNotFound, "Not found", "This customer has no worklist item you can decide on.")
		}
		return err
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]string{"customerId": it.CustomerID, "state": it.State, "reason": it.Reason})
	}
	return c.Redirect(http.StatusSeeOther, safeReturn(c.FormValue("return"), customerID))
}

// safeReturn is where a decision goes back to: the worklist or the customer's page the form
// was on, never anywhere else.
func safeReturn(ret, customerID string) string {
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(ret, "//") || strings.Contains(ret, "\\") {
		return "/worklist"
	}
	if u.Path == "/worklist" || u.Path == "/customers/"+customerID {
		return u.RequestURI()
	}
	return "/worklist"
}

// customerScanView is the customer page's scan line.
func customerScanView(st scan.CustomerStatus, customerID, csrf string) *views.CustomerScan {
	v := &views.CustomerScan{Scanned: st.Scanned, Changed: st.Changed}
	if st.Scanned {
		v.LastScanned = st.LastScannedAt.Format(scanTimeLayout)
	}
	v.Line = views.ScanLine(v.Scanned, v.LastScanned, v.Changed)
	if st.Item != nil {
		f := decisionForm(customerID, "/customers/"+url.PathEscape(customerID), csrf)
		v.HasItem, v.State, v.StateText, v.Reason, v.DecidedBy, v.Kinds, v.Decide = true, st.Item.State,
			views.ItemStateText(st.Item.State), st.Item.Reason, st.Item.DecidedByName, st.Item.Kinds, &f
	}
	return v
}
