package handlers

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// DefaultSignInRate is how many sign-in requests (/auth/start and /auth/callback together) one
// client address may make per minute, in bursts of as many. A person signing in makes two.
const DefaultSignInRate = 30

// signInClients is how many client addresses the limiter remembers; the least recently seen
// is forgotten first, so its memory does not grow with the addresses an attacker can use.
const signInClients = 10000

// signInLimiter bounds what anonymous clients can make ctpdesk write. Every /auth/start stores
// a pre-login row and every failed /auth/callback an audit event kept for the retention
// period, and neither needs a session: without a bound, one client writes hundreds of rows a
// second. Each client address gets a token bucket (golang.org/x/time/rate). The address is the
// one the trusted-proxy rule yields (echo's RealIP with ClientIPExtractor), never a header a
// client chose; IPv6 clients are counted per /64, the block one subscriber usually holds. The
// limit is per replica, which bounds each replica's writes, which is what it protects.
type signInLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	clients *lru.Cache[string, *rate.Limiter]
	now     func() time.Time
}

// newSignInLimiter allows perMinute requests per minute and client address.
func newSignInLimiter(perMinute int, now func() time.Time) *signInLimiter {
	perMinute = max(perMinute, 1)
	// The size is a constant above zero, so New cannot fail.
	clients, _ := lru.New[string, *rate.Limiter](signInClients)
	return &signInLimiter{every: rate.Limit(float64(perMinute) / 60), burst: perMinute, clients: clients, now: now}
}

// allow takes one token for client and reports whether the request may go on; when it may
// not, it says how long until a token is back.
func (l *signInLimiter) allow(client string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients.Get(client)
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.clients.Add(client, lim)
	}
	now := l.now()
	r := lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		// Give the token back: a refused request must not push the next allowed one further out.
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// clientKey is the rate-limit key of a client address: the address itself for IPv4, its /64
// for IPv6. An address that does not parse is its own key.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// limitSignIn wraps a sign-in route: beyond the client's rate it answers 429 with Retry-After
// and writes nothing, neither a row nor an audit event.
func (h *Handler) limitSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ok, wait := h.signInLimit.allow(clientKey(c.RealIP()))
		if ok {
			return next(c)
		}
		noStore(c)
		secs := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		return userError(http.StatusTooManyRequests, "Too many sign-in attempts",
			"This address has started too many sign-ins in a short time. Wait a minute and try again.")
	}
}
