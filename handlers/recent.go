package handlers

import (
	"context"
	"errors"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/issuerdb"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// RecentViews is the audit trail as the search page reads the customers a user opened last;
// *audit.Trail implements it. The trail already records every customer view, so the list
// needs no state of its own and is the same on every replica.
type RecentViews interface {
	RecentCustomers(ctx context.Context, actorIssuer, actorSubject string, limit int) ([]audit.RecentCustomer, error)
}

// recentLimit is how many customers the search page lists as recently viewed.
const recentLimit = 8

// recentlyViewed reads the signed-in user's recently viewed customers and their names for the
// empty search page. The list is a shortcut, not data the page depends on: when the trail or
// the issuer database cannot answer, the list says it is unavailable and the page still works.
func (h *Handler) recentlyViewed(c echo.Context) *views.RecentList {
	ctx := c.Request().Context()
	u, ok := auth.UserFrom(ctx)
	if !ok {
		return nil
	}
	recent, err := h.recent.RecentCustomers(ctx, u.Issuer, u.Subject, recentLimit)
	if err != nil {
		Logger(ctx, h.log).Warn("recently viewed customers unavailable", "err", err)
		return &views.RecentList{Unavailable: true, Items: []views.RecentItem{}}
	}
	found := make(map[string]issuerdb.Customer, len(recent))
	for _, r := range recent {
		cust, err := h.customers.Get(ctx, r.CustomerID)
		switch {
		case errors.Is(err, issuerdb.ErrNotFound):
			// No longer in the issuer's records: nothing to go back to.
			continue
		case err != nil:
			Logger(ctx, h.log).Warn("recently viewed customers unavailable", "err", err)
			return &views.RecentList{Unavailable: true, Items: []views.RecentItem{}}
		}
		found[r.CustomerID] = cust
	}
	l := recentView(recent, found)
	return &l
}

// recentView builds the recently viewed list: newest first, each customer by name and id,
// linked by id alone so no personal data reaches a URL. Customers missing from found are left
// out.
func recentView(recent []audit.RecentCustomer, found map[string]issuerdb.Customer) views.RecentList {
	l := views.RecentList{Items: make([]views.RecentItem, 0, len(recent))}
	for _, r := range recent {
		c, ok := found[r.CustomerID]
		if !ok {
			continue
		}
		l.Items = append(l.Items, views.RecentItem{
			CustomerID: c.ID,
			Name:       fullName(c),
			Status:     string(c.Status),
			URL:        customerURL(c.ID),
			Viewed:     displayTime(r.ViewedAt),
			ViewedISO:  r.ViewedAt.UTC().Format(time.RFC3339),
		})
	}
	return l
}
