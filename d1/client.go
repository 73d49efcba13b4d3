package d1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Client calls D1's get-profiles API with a cached token, a result cache, retries, a retry
// budget and a circuit breaker per base URL. It is safe for concurrent use; build one per
// process with New.
type Client struct {
	cfg      Config
	http     *http.Client
	clock    Clock
	metrics  Metrics
	log      *slog.Logger
	breakers *breakers
	tokens   *tokenSource
	budget   *retryBudget
	cache    *lru.Cache[string, Result]
	flights  singleflight.Group
	jitter   func() float64
}

// Option adjusts a Client built by New.
type Option func(*Client)

// WithClock replaces the clock used for token expiry and cache ages (tests use a fake one).
func WithClock(c Clock) Option { return func(cl *Client) { cl.clock = c } }

// WithMetrics plugs in a Metrics implementation; the default discards everything.
func WithMetrics(m Metrics) Option { return func(cl *Client) { cl.metrics = m } }

// WithLogger sets the logger; records carry correlation ids and classes, never customer data.
func WithLogger(l *slog.Logger) Option { return func(cl *Client) { cl.log = l } }

// FetchOptions tune one GetProfiles call.
type FetchOptions struct {
	// Fresh skips the cache and asks D1 (concurrent fresh calls are still coalesced).
	Fresh bool
	// RequestID is the caller's request id; the x-correlation-id is derived from it.
	RequestID string
}

// New builds a client. cfg is validated (defaults applied); httpClient carries the TLS set-up
// (see NewHTTPClient) and must not be nil.
func New(cfg Config, httpClient *http.Client, opts ...Option) (*Client, error) {
	if httpClient == nil {
		return nil, errors.New("d1: new client: nil http client")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	cfg.AuthzURL = strings.TrimRight(cfg.AuthzURL, "/")
	cfg.BankingURL = strings.TrimRight(cfg.BankingURL, "/")
	key := cfg.SigningKey
	if key == nil {
		var err error
		if key, err = LoadSigningKey(cfg.SigningKeyFile); err != nil {
			return nil, err
		}
	}
	cfg.SigningKey = nil // the signer holds the key; the config may be logged.
	c := &Client{
		cfg:     cfg,
		http:    httpClient,
		clock:   systemClock{},
		metrics: NopMetrics{},
		log:     slog.New(slog.DiscardHandler),
		budget:  newRetryBudget(cfg.RetryBudgetRatio, cfg.RetryBudgetReserve),
		jitter:  rand.Float64,
	}
	for _, o := range opts {
		o(c)
	}
	c.breakers = newBreakers(cfg.BreakerFailures, cfg.BreakerOpenTimeout, c.metrics, c.log)
	size := max(cfg.CacheSize, 1)
	cache, err := lru.New[string, Result](size)
	if err != nil {
		return nil, fmt.Errorf("d1: new client: cache: %w", err)
	}
	c.cache = cache
	if c.tokens, err = newTokenSource(c, key); err != nil {
		return nil, err
	}
	return c, nil
}

// BreakerState reports the state of the breaker guarding a base URL ("closed", "half-open",
// "open"), for readiness pages and tests.
func (c *Client) BreakerState(baseURL string) string {
	return c.breakers.State(strings.TrimRight(baseURL, "/"))
}

// Ready makes sure the client holds an access token that is not about to expire, fetching one
// when it has none, so that the next call starts at once. The portfolio scan calls it before it
// takes rate slots: a call the limiter releases must leave within its slot's second, and a
// token fetch in front of it would carry it into the next.
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.tokens.get(ctx, CorrelationID("scan-ready"))
	return err
}

// GetProfiles returns the consumer's Click to Pay profiles, one per directory. A cached result
// younger than CacheTTL is returned without calling D1 (Cached set). Concurrent calls for one
// consumer share one upstream call. When D1 fails with an availability or response problem
// and a cached result no older than StaleMaxAge exists, that result is returned with Stale set
// and StaleReason holding the error: never silently. Results are shared between callers and
// must be treated as read-only. Errors are *Error values matching one sentinel.
func (c *Client) GetProfiles(ctx context.Context, consumerID string, opt FetchOptions) (Result, error) {
	correlationID := CorrelationID(opt.RequestID)
	if !ValidConsumerID(consumerID) {
		return Result{}, newError("profiles", ClassInvalidRequest, 0, correlationID,
			errors.New("consumer id must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'"))
	}
	now := c.clock.Now()
	if !opt.Fresh {
		if r, ok := c.cache.Get(consumerID); ok && r.Age(now) < c.cfg.CacheTTL {
			c.metrics.ObserveCache("hit")
			r.Cached = true
			return r, nil
		}
	}
	c.metrics.ObserveCache("miss")
	if cerr := ctx.Err(); cerr != nil {
		// A caller that has already given up starts no call to D1. Without this, the shared
		// call below (detached from the caller) could finish before the wait for it began,
		// and the answer would race the caller's cancellation.
		return c.staleOr(consumerID, newError("profiles", classifyTransport(ctx, cerr), 0, correlationID, cerr))
	}
	key := consumerID
	if opt.Fresh {
		key = "fresh\x00" + consumerID
	}
	ch := c.flights.DoChan(key, func() (any, error) {
		if !opt.Fresh {
			// A call that finished between our cache check and this flight filled the cache.
			if r, ok := c.cache.Get(consumerID); ok && r.Age(c.clock.Now()) < c.cfg.CacheTTL {
				r.Cached = true
				return r, nil
			}
		}
		fctx, cancel := detachedContext(ctx, c.cfg.Timeout)
		defer cancel()
		r, err := c.fetch(fctx, consumerID, correlationID)
		if err == nil {
			c.cache.Add(consumerID, r)
		}
		return r, err
	})
	var err error
	select {
	case <-ctx.Done():
		// The shared call goes on for the others; this caller stops waiting.
		err = newError("profiles", classifyTransport(ctx, ctx.Err()), 0, correlationID, ctx.Err())
	case res := <-ch:
		if res.Shared {
			c.metrics.ObserveCache("shared")
		}
		if res.Err == nil {
			return res.Val.(Result), nil
		}
		err = res.Err
	}
	return c.staleOr(consumerID, err)
}

// staleOr returns, for a call that failed with err, the cached result when err allows a stale
// answer and one no older than StaleMaxAge exists (marked Stale, with err as the reason), and
// err otherwise.
func (c *Client) staleOr(consumerID string, err error) (Result, error) {
	if staleAllowed(err) && c.cfg.StaleMaxAge > 0 {
		if r, ok := c.cache.Peek(consumerID); ok && r.Age(c.clock.Now()) <= c.cfg.StaleMaxAge {
			c.metrics.ObserveCache("stale")
			r.Cached, r.Stale, r.StaleReason = true, true, err
			return r, nil
		}
	}
	return Result{}, err
}
