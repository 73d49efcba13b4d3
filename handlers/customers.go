package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/issuerdb"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// CustomerSearcher is the issuer database as the customer pages use it.
type CustomerSearcher interface {
	Search(ctx context.Context, q issuerdb.Query) (issuerdb.Page, error)
	Get(ctx context.Context, id string) (issuerdb.Customer, error)
}

// seesUnmasked says the signed-in user's role sees contact data whole (fraud analysts).
func seesUnmasked(c echo.Context) bool {
	u, _ := auth.UserFrom(c.Request().Context())
	return u.Has(auth.RoleFraud)
}

// searchInput is the parsed query string of GET /customers.
type searchInput struct {
	Query string
	After string
	Limit int
}

// errBadLimit is returned for a limit parameter that is not a number from 1 to MaxLimit.
var errBadLimit = userError(http.StatusBadRequest, "Bad request",
	"The limit must be a whole number from 1 to "+strconv.Itoa(issuerdb.MaxLimit)+".")

func parseSearchInput(c echo.Context) (searchInput, error) {
	in := searchInput{Query: c.QueryParam("q"), After: c.QueryParam("after")}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > issuerdb.MaxLimit {
			return in, errBadLimit
		}
		in.Limit = n
	}
	return in, nil
}

// Customers is the search page (GET /customers?q=…): the full page, the results fragment for
// htmx requests, or JSON. Without q it shows the empty search box. A query that cannot be
// searched answers 400 with the reason in the page's usual place. Each search is recorded in
// the audit trail before any result is sent.
func (h *Handler) Customers(c echo.Context) error {
	varyOnFragment(c)
	noStore(c)
	in, err := parseSearchInput(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	var page issuerdb.Page
	var rec *recording
	if in.Query != "" {
		// The trail gets the kind and the number of rows, never the query text: it may be an
		// email or a phone number. The event is begun as soon as the rows are found: the
		// matches are counted, the cards read and the results rendered while it commits, and
		// sent once it is durable.
		found := func(kind issuerdb.Kind, rows int) {
			rec = h.begin(c, audit.ActionSearch, audit.Success, "",
				map[string]string{"kind": string(kind), "results": strconv.Itoa(rows)})
		}
		page, err = h.customers.Search(c.Request().Context(),
			issuerdb.Query{Text: in.Query, After: in.After, Limit: in.Limit, Found: found})
		var qe *issuerdb.QueryError
		switch {
		case errors.As(err, &qe):
			status = http.StatusBadRequest
			rec = h.begin(c, audit.ActionSearch, audit.Failure, "", map[string]string{"reason": "invalid_query"})
		case err != nil:
			// Rows found before the failure were read: their event stays, and only the error
			// is answered.
			return errors.Join(rec.wait(), err)
		case rec == nil:
			// A search that did not say when its rows were found.
			found(page.Kind, len(page.Customers))
		}
	}
	// Contact data is masked for everyone but fraud analysts; agents reveal a field with a
	// reason on the customer page.
	view := searchView(in, page, err, seesUnmasked(c))
	if in.Query == "" {
		view.Recent = h.recentlyViewed(c)
	}
	switch {
	case wantsJSON(c):
		return jsonRecorded(c, rec, status, view)
	case isHTMX(c):
		return renderRecorded(c, rec, status, views.SearchResultsFragment(view))
	}
	b := h.base(c, "Find a customer")
	b.Nav = "search"
	return renderRecorded(c, rec, status, views.Search(b, view))
}

// Customer is the issuer half of the customer page (GET /customers/:id); the comparison
// beside it is loaded by htmx from /customers/:id/comparison, with the page's "show" choice
// passed on. An unknown id is a 404. The view is recorded in the audit trail before the record
// is sent.
func (h *Handler) Customer(c echo.Context) error {
	varyOnFragment(c)
	noStore(c)
	showAll, err := parseShow(c.QueryParam("show"))
	if err != nil {
		return err
	}
	cust, err := h.customers.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return h.recordNotFound(c, audit.ActionCustomerView, err)
	}
	// The rest of the page is read and rendered while the event commits, and sent once it is
	// durable.
	rec := h.begin(c, audit.ActionCustomerView, audit.Success, cust.ID, nil)
	view := customerView(cust, seesUnmasked(c), showAll)
	st, err := h.scans.Customer(c.Request().Context(), cust.ID, viewerOf(c))
	if err != nil {
		return errors.Join(rec.wait(), err)
	}
	view.Scan = customerScanView(st, cust.ID, auth.CSRFTokenFrom(c.Request().Context()))
	if wantsJSON(c) {
		return jsonRecorded(c, rec, http.StatusOK, view)
	}
	if reveal := pageRevealer(c, "record", cust.ID); reveal != nil {
		view.RevealEmail = reveal(revealIssuer, "email", view.Email)
		view.RevealPhone = reveal(revealIssuer, "phone", view.Phone)
	}
	b := h.base(c, view.Name)
	b.Nav = "search"
	if err := renderRecorded(c, rec, http.StatusOK, views.Customer(b, view)); err != nil {
		return err
	}
	// The page is sent; the comparison it loads next compares the record it shows.
	u, _ := auth.UserFrom(c.Request().Context())
	h.handoff.put(viewerKey(u), cust, h.now())
	return nil
}

// parseShow reads the customer page's "show" parameter: "all" shows every field of the
// comparison, "diff" or nothing only the differences.
func parseShow(show string) (bool, error) {
	switch show {
	case "", "diff":
		return false, nil
	case "all":
		return true, nil
	}
	return false, errBadShow
}

// pageRevealer returns what builds the Reveal controls of one part (place) of a customer's
// page, or nil when the viewer may not reveal: only agents reveal, and only what they see
// masked (a fraud analyst sees contact data whole). The controls it builds are nil for an
// empty value, which has nothing to reveal.
func pageRevealer(c echo.Context, place, customerID string) revealer {
	u, _ := auth.UserFrom(c.Request().Context())
	if !u.Has(auth.RoleAgent) || seesUnmasked(c) {
		return nil
	}
	return func(source, field, masked string) *views.RevealForm {
		if masked == "" {
			return nil
		}
		f := RevealForm(c, place, customerID, source, field, masked)
		return &f
	}
}
