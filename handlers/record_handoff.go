package handlers

import (
	"sync"
	"time"

	"ctpdesk/auth"
	"ctpdesk/issuerdb"
)

// Limits of the record handoff: the comparison follows its page within a second or two, and
// a replica has far fewer pages in flight than this.
const (
	handoffTTL = 10 * time.Second
	handoffMax = 1024
)

// recordHandoff passes the issuer record the customer page just read on to the comparison the
// page loads next (htmx, hx-trigger=load), so one view reads the customer and its cards once.
// A record is handed to the same person only, once, and only shortly after the page read it:
// the comparison then compares exactly the record its page shows. Anything else (another
// replica, a reload of the comparison, "Refresh from D1", an entry gone stale or pushed out)
// reads the issuer database as before.
type recordHandoff struct {
	mu      sync.Mutex
	entries map[handoffKey]handoffEntry
}

type handoffKey struct{ viewer, customerID string }

type handoffEntry struct {
	customer issuerdb.Customer
	at       time.Time
}

func newRecordHandoff() *recordHandoff {
	return &recordHandoff{entries: make(map[handoffKey]handoffEntry)}
}

// viewerKey names the signed-in person for the handoff.
func viewerKey(u auth.User) string { return u.Issuer + "\x00" + u.Subject }

// put keeps cust, as read at now, for viewer's comparison. The caller gives up cust: it must
// not change it afterwards.
func (r *recordHandoff) put(viewer string, cust issuerdb.Customer, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) >= handoffMax {
		for k, e := range r.entries {
			if now.Sub(e.at) >= handoffTTL {
				delete(r.entries, k)
			}
		}
		for k := range r.entries {
			if len(r.entries) < handoffMax {
				break
			}
			delete(r.entries, k)
		}
	}
	r.entries[handoffKey{viewer, cust.ID}] = handoffEntry{customer: cust, at: now}
}

// take returns, and forgets, the record of customerID kept for viewer, if it is fresh.
func (r *recordHandoff) take(viewer, customerID string, now time.Time) (issuerdb.Customer, bool) {
	k := handoffKey{viewer, customerID}
	r.mu.Lock()
	e, ok := r.entries[k]
	delete(r.entries, k)
	r.mu.Unlock()
	if !ok || now.Sub(e.at) >= handoffTTL || now.Before(e.at) {
		return issuerdb.Customer{}, false
	}
	return e.customer, true
}
