package handlers

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// refreshLimiter allows each user a few forced D1 refreshes per window: "Refresh from D1"
// bypasses the cache, so without a limit one impatient click-fest becomes a burst against D1.
// It remembers a bounded number of users (least recently seen forgotten first), so its memory
// cannot grow with the number of subjects. It is per replica, which is enough for protecting D1
// from a person; the D1 client's breaker and retry budget protect it from the fleet.
type refreshLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	recent *lru.Cache[string, []time.Time]
}

// newRefreshLimiter allows limit refreshes per window per user.
func newRefreshLimiter(limit int, window time.Duration) *refreshLimiter {
	// The size is a constant above zero, so New cannot fail.
	cache, _ := lru.New[string, []time.Time](10000)
	return &refreshLimiter{limit: max(limit, 1), window: window, recent: cache}
}

// allow records a refresh by user at now and reports whether it is allowed; when it is not, it
// says how long until the oldest refresh in the window expires.
func (l *refreshLimiter) allow(user string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	times, _ := l.recent.Get(user)
	kept := times[:0:0]
	for _, t := range times {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.limit {
		l.recent.Add(user, kept)
		return false, l.window - now.Sub(kept[0])
	}
	l.recent.Add(user, append(kept, now))
	return true, 0
}
