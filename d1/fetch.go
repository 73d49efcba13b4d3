package d1

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// minRetryWindow is the least time a retry must have left before the call's deadline; a
// shorter attempt could not get an answer from D1 anyway.
const minRetryWindow = 250 * time.Millisecond

// fetch performs one GetProfiles call against D1: token, GET, at most MaxRetries retries on
// network errors, timed-out attempts, 5xx and 429 within the call's deadline (ctx) and the
// retry budget, and one token refresh on a 401. Each attempt has its own deadline,
// AttemptTimeout, cut short by the call's. The banking breaker admits the call and judges it
// once, when it ends.
func (c *Client) fetch(ctx context.Context, consumerID, correlationID string) (res Result, err error) {
	start := time.Now()
	c.budget.deposit()
	defer func() {
		c.metrics.ObserveCall("profiles", ClassOf(err), time.Since(start))
		if err != nil {
			c.log.Warn("d1: get profiles failed", "correlation_id", correlationID, "class", ClassOf(err), "error", err)
		}
	}()
	cb, err := c.breakers.begin("profiles", c.cfg.BankingURL)
	if err != nil {
		return Result{}, newError("profiles", ClassCircuitOpen, 0, correlationID, nil)
	}
	defer func() { cb.end(consumerID, err) }()
	target := c.cfg.BankingURL + ProfilesPath(c.cfg.IssuerID, consumerID)
	attempts, retries, refreshed := 0, 0, false
	for {
		tok, err := c.tokens.get(ctx, correlationID)
		if err != nil {
			return Result{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return Result{}, newError("profiles", ClassInvalidRequest, 0, correlationID, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		req.Header.Set(HeaderCorrelationID, correlationID)
		attempts++
		actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
		resp, rerr := c.roundTrip(actx, "profiles", req)
		// Classified before cancel: a deadline that passed is a timeout, not a cancellation.
		var class string
		if rerr != nil {
			class = classifyTransport(actx, rerr)
		}
		cancel()
		if rerr == nil {
			if resp.status == http.StatusUnauthorized && !refreshed {
				// The token died early (revoked, clock skew): get a new one and try once more.
				refreshed = true
				c.tokens.invalidate(tok)
				continue
			}
			return c.interpret(resp, correlationID, attempts)
		}
		e := newError("profiles", class, resp.status, correlationID, transportCause(rerr))
		e.Attempts = attempts
		if resp.status != 0 {
			e.Code = errorCode(resp.body)
		}
		wait, ok := c.retryDelay(ctx, class, resp, retries)
		if !ok {
			return Result{}, e
		}
		if !c.budget.withdraw() {
			c.log.Info("d1: retry budget exhausted", "correlation_id", correlationID, "class", class)
			return Result{}, e
		}
		c.metrics.ObserveRetry("profiles", class)
		if err := sleepContext(ctx, wait); err != nil {
			return Result{}, e
		}
		retries++
	}
}

// interpret turns a non-failing response (anything but transport errors, 5xx and 429) into
// a result or an error.
func (c *Client) interpret(resp response, correlationID string, attempts int) (Result, error) {
	var class string
	var cause error
	switch resp.status {
	case http.StatusOK:
		profiles, err := DecodeProfiles(resp.body)
		if err == nil {
			return Result{Profiles: profiles, FetchedAt: c.clock.Now(), CorrelationID: correlationID}, nil
		}
		class, cause = ClassBadResponse, err
	case http.StatusNotFound:
		class = ClassNotFound
	case http.StatusUnauthorized:
		class, cause = ClassUnauthorized, errors.New("refused after a token refresh")
	case http.StatusForbidden:
		class = ClassForbidden
	case http.StatusBadRequest:
		class, cause = ClassBadRequest, errors.New("D1 rejected the request")
	default:
		class, cause = ClassBadResponse, errors.New("unexpected status")
	}
	e := newError("profiles", class, resp.status, correlationID, cause)
	e.Attempts = attempts
	if resp.status != http.StatusOK {
		e.Code = errorCode(resp.body)
	}
	return Result{}, e
}

// retryDelay decides whether a failed attempt is retried and after how long: only for
// network errors, timed-out attempts, 5xx and 429; at most MaxRetries times; honouring
// Retry-After up to RetryAfterMax; and only if the wait leaves a useful attempt's time
// (minRetryWindow) before the call's deadline.
func (c *Client) retryDelay(ctx context.Context, class string, resp response, retries int) (time.Duration, bool) {
	switch class {
	case ClassUnavailable, ClassRateLimited, ClassTimeout:
	default:
		return 0, false
	}
	if retries >= c.cfg.MaxRetries || ctx.Err() != nil {
		return 0, false
	}
	// Capped exponential backoff with full jitter: uniform in [0, min(max, base·2^n)).
	ceiling := min(c.cfg.BackoffMax, c.cfg.BackoffBase<<retries)
	wait := time.Duration(c.jitter() * float64(ceiling))
	if resp.header != nil {
		if ra, ok := retryAfter(resp.header, time.Now()); ok {
			if ra > c.cfg.RetryAfterMax {
				return 0, false
			}
			wait = max(wait, ra)
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)-wait < minRetryWindow {
		return 0, false
	}
	return wait, true
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
