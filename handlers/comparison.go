package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// ProfileFetcher is the D1 client as the comparison uses it: cached, coalesced, and able to
// skip the cache for "Refresh from D1".
type ProfileFetcher interface {
	GetProfiles(ctx context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error)
}

// Refresh limits: a few forced refreshes per user per minute.
const (
	refreshLimit  = 3
	refreshWindow = time.Minute
)

// errBadShow is returned for a show parameter other than "all" or "diff".
var errBadShow = userError(http.StatusBadRequest, "Bad request", `The "show" parameter must be "all" or "diff".`)

// errNotRecorded is returned when the audit trail refused the event: the data is not shown.
var errNotRecorded = userError(http.StatusServiceUnavailable, "Not available right now",
	"This access could not be recorded in the audit trail, so the data is not shown. Try again in a moment.")

// comparisonInput is the parsed request of the comparison routes.
type comparisonInput struct {
	CustomerID string
	DiffOnly   bool
}

// parseComparisonInput reads the customer id and the "show" choice, from the query string or
// the refresh form. The customer page passes its own "show" on in the URL it loads, so the
// choice survives a reload; the page address htmx reports (HX-Current-URL) is deliberately not
// read: it still names the old choice while the switch asks for the new one.
func parseComparisonInput(c echo.Context) (comparisonInput, error) {
	in := comparisonInput{CustomerID: c.Param("id")}
	show := c.QueryParam("show")
	if show == "" && c.Request().Method == http.MethodPost {
		show = c.FormValue("show")
	}
	showAll, err := parseShow(show)
	in.DiffOnly = !showAll
	return in, err
}

// Comparison is GET /customers/:id/comparison: every directory's profile beside the issuer
// record, as the htmx fragment, a page of its own, or JSON (masked the same way).
func (h *Handler) Comparison(c echo.Context) error {
	in, err := parseComparisonInput(c)
	if err != nil {
		return err
	}
	return h.serveComparison(c, in, false, "", http.StatusOK)
}

// RefreshComparison is POST /customers/:id/comparison/refresh ("Refresh from D1"): the same
// answer, fetched from D1 past the cache. Over the per-user limit it answers 429 with the
// cached comparison and a notice saying when to try again.
func (h *Handler) RefreshComparison(c echo.Context) error {
	in, err := parseComparisonInput(c)
	if err != nil {
		return err
	}
	u, _ := auth.UserFrom(c.Request().Context())
	ok, wait := h.refreshes.allow(u.Issuer+"\x00"+u.Subject, h.now())
	if !ok {
		secs := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return h.serveComparison(c, in, false, views.RefreshLimitNotice(refreshLimit, secs), http.StatusTooManyRequests)
	}
	return h.serveComparison(c, in, true, views.RefreshedNotice(), http.StatusOK)
}

// serveComparison runs the four steps: read the issuer record, ask D1, compare, record the
// audit event, and only then render.
func (h *Handler) serveComparison(c echo.Context, in comparisonInput, fresh bool, notice string, status int) error {
	varyOnFragment(c)
	noStore(c)
	ctx := c.Request().Context()
	action := audit.ActionComparison
	if fresh {
		action = audit.ActionRefresh
	}
	cust, err := h.comparedRecord(c, in.CustomerID, fresh)
	if err != nil {
		return h.recordNotFound(c, action, err)
	}
	cmp := h.compare(ctx, cust, fresh, requestID(c))
	// The view is built and rendered while the event commits, and sent once it is durable.
	rec := h.recordComparison(c, action, cust.ID, cmp)
	rec.refused = func(err error) error {
		Logger(ctx, h.log).Error("audit event not recorded; comparison withheld", "error", err.Error())
		return errNotRecorded
	}
	u, _ := auth.UserFrom(ctx)
	unmasked := u.Has(auth.RoleFraud)
	if wantsJSON(c) {
		return jsonRecorded(c, rec, status, comparisonJSON(maskComparison(cmp, unmasked)))
	}
	view := buildComparisonView(cmp, comparisonViewOptions{
		DiffOnly: in.DiffOnly, Unmasked: unmasked, CSRFToken: auth.CSRFTokenFrom(ctx), Notice: notice,
		Reveal: pageRevealer(c, "comparison", cust.ID),
	})
	if isHTMX(c) {
		return renderRecorded(c, rec, status, views.Comparison(view))
	}
	b := h.base(c, "Click to Pay comparison")
	b.Nav = "search"
	return renderRecorded(c, rec, status, views.ComparisonFull(b, view))
}

// comparedRecord is the issuer record a comparison compares: the one its customer page just
// read and showed, when this replica served that page to the same person a moment ago, else
// the issuer database's. "Refresh from D1" always reads the database.
func (h *Handler) comparedRecord(c echo.Context, id string, fresh bool) (issuerdb.Customer, error) {
	if !fresh {
		u, _ := auth.UserFrom(c.Request().Context())
		if cust, ok := h.handoff.take(viewerKey(u), id, h.now()); ok {
			return cust, nil
		}
	}
	return h.customers.Get(c.Request().Context(), id)
}

// compare asks D1 and compares. A consumer D1 does not know is not registered; any other
// failure makes every directory column unavailable while the issuer values still show. The
// time of a failure is taken once D1 has given up, so the page says when it stopped waiting.
func (h *Handler) compare(ctx context.Context, cust issuerdb.Customer, fresh bool, reqID string) reconcile.Comparison {
	res, err := h.profiles.GetProfiles(ctx, cust.ConsumerID, d1.FetchOptions{Fresh: fresh, RequestID: reqID})
	if err != nil && !errors.Is(err, d1.ErrNotFound) {
		corr := ""
		var de *d1.Error
		if errors.As(err, &de) {
			corr = de.CorrelationID
		}
		Logger(ctx, h.log).Warn("d1 profiles unavailable", "class", d1.ClassOf(err), "correlation_id", corr)
	}
	return reconcile.CompareAnswer(cust, res, err, reconcile.Options{Now: h.now()})
}

// recordComparison begins the audit event of a comparison: who saw which customer, and which
// directories answered. Details hold directory names and states only, never field values.
func (h *Handler) recordComparison(c echo.Context, action audit.Action, customerID string, cmp reconcile.Comparison) *recording {
	var reached, states []string
	answered, stale := false, false
	for _, col := range cmp.Columns {
		dir := auditToken(col.Directory)
		states = append(states, dir+"="+string(col.State))
		if col.State != reconcile.StateUnavailable && !col.Stale {
			reached = append(reached, dir)
		}
		answered = answered || col.State != reconcile.StateUnavailable
		stale = stale || col.Stale
	}
	details := map[string]string{
		"directories_answered": strings.Join(reached, ","),
		"directory_states":     strings.Join(states, ","),
		"d1_answered":          strconv.FormatBool(answered),
	}
	if stale {
		// The page showed D1's cached answer: say so, as data-stale does.
		details["d1_stale"] = "true"
	}
	if len(cmp.Columns) > 0 && cmp.Columns[0].CorrelationID != "" {
		details["d1_correlation_id"] = auditToken(cmp.Columns[0].CorrelationID)
	}
	return h.begin(c, action, audit.Success, customerID, details)
}

// auditToken keeps a value from D1 fit for the audit trail's details: the characters of an
// identifier only ([A-Za-z0-9_-]), at most 64 of them. Directory names and correlation ids are
// such identifiers unless D1 misbehaves, and a misbehaving D1 must not make the event unwritable.
func auditToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() == 64 {
			break
		}
		if r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
