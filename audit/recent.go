package audit

import (
	"context"
	"fmt"
	"time"
)

// MaxRecentCustomers caps RecentCustomers; a "recently viewed" list longer than this is a
// search, not a shortcut.
const MaxRecentCustomers = 50

// recentScanEvents bounds how many of a user's latest customer views RecentCustomers reads to
// find distinct customers: enough for a day of calls that return to the same few customers,
// and a bounded read however long the user's history is.
const recentScanEvents = 500

// RecentCustomer is a customer a user opened, and when they last did.
type RecentCustomer struct {
	CustomerID string
	ViewedAt   time.Time
}

// RecentCustomers lists the distinct customers the user (issuer and subject of their sign-in)
// last opened successfully, newest first, at most limit of them. The trail already holds every
// customer view, so the list needs no table of its own and follows the trail's retention.
func (t *Trail) RecentCustomers(ctx context.Context, actorIssuer, actorSubject string, limit int) ([]RecentCustomer, error) {
	switch {
	case actorIssuer == "" || actorSubject == "":
		return nil, fmt.Errorf("%w: recent customers need the actor's issuer and subject", ErrBadFilter)
	case len(actorIssuer) > maxIssuer || len(actorSubject) > maxSubject:
		return nil, fmt.Errorf("%w: value too long", ErrBadFilter)
	case limit < 1 || limit > MaxRecentCustomers:
		return nil, fmt.Errorf("%w: recent customers limit must be 1 to %d", ErrBadFilter, MaxRecentCustomers)
	}
	// The inner query walks the actor's index backwards and stops after recentScanEvents rows;
	// the outer one keeps each customer's latest view.
	rows, err := t.db.QueryContext(ctx, t.db.Rebind(`SELECT customer_id, MAX(seq), MAX(at_ms) FROM (
		SELECT customer_id, seq, at_ms FROM audit_events
		WHERE actor_sub = ? AND actor_iss = ? AND action = ? AND outcome = ? AND customer_id <> ''
		ORDER BY seq DESC LIMIT ?
	) latest GROUP BY customer_id ORDER BY MAX(seq) DESC LIMIT ?`),
		actorSubject, actorIssuer, string(ActionCustomerView), string(Success), recentScanEvents, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: recent customers: %w", err)
	}
	defer rows.Close()
	out := []RecentCustomer{}
	for rows.Next() {
		var (
			r         RecentCustomer
			seq, atMS int64
		)
		if err := rows.Scan(&r.CustomerID, &seq, &atMS); err != nil {
			return nil, fmt.Errorf("audit: recent customers: %w", err)
		}
		r.ViewedAt = time.UnixMilli(atMS).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: recent customers: %w", err)
	}
	return out, nil
}
