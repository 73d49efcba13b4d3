package auth

import (
	"context"
	"fmt"
	"time"

	"ctpdesk/store"
)

// ErrUnavailable means the session store's database could not serve the request in time: it
// is locked, read-only, full or out of reach (store.ErrUnavailable). Nobody is let in or
// shown anything meanwhile; the HTTP layer answers 503 with the request id.
var ErrUnavailable = store.ErrUnavailable

// DefaultDBTimeout is how long one request waits for the session store in all (loading the
// session and moving its last activity, or saving it). It is well under the two seconds in
// which a request must answer even when the database is stuck, and far above what a healthy
// database needs (a few milliseconds).
const DefaultDBTimeout = 500 * time.Millisecond

// dbContext bounds the session store's database work for one request. The request's own
// deadline wins when it is nearer.
func (s *SessionStore) dbContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.DBTimeout)
}

// dbError wraps a failed database call with what it was for, marked ErrUnavailable when the
// database itself failed rather than the query.
func dbError(what string, err error) error {
	return fmt.Errorf("auth: %s: %w", what, store.Classify(err))
}
