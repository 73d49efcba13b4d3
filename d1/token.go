package d1

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/sync/singleflight"
)

// tokenSource obtains D1 access tokens with the OAuth 2.0 JWT bearer grant (RFC 7523), caches
// the current one and makes concurrent callers share one refresh.
type tokenSource struct {
	c      *Client
	signer jose.Signer
	url    string

	mu        sync.Mutex
	token     string
	refreshAt time.Time

	flight singleflight.Group
}

// newTokenSource prepares the ES256 signer; the kid goes into the JWS header.
func newTokenSource(c *Client, key *ecdsa.PrivateKey) (*tokenSource, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: c.cfg.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("d1: token signer: %w", err)
	}
	return &tokenSource{c: c, signer: signer, url: strings.TrimRight(c.cfg.AuthzURL, "/") + TokenPath}, nil
}

// assertionClaims are the claims of the JWT assertion.
type assertionClaims struct {
	jwt.Claims
}

// assertion builds and signs a fresh JWT assertion at now.
func (t *tokenSource) assertion(now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("d1: token: random jti: %w", err)
	}
	jti[6] = jti[6]&0x0f | 0x40
	jti[8] = jti[8]&0x3f | 0x80
	h := hex.EncodeToString(jti[:])
	claims := assertionClaims{Claims: jwt.Claims{
		Issuer:   t.c.cfg.IssuerID,
		Subject:  t.c.cfg.IssuerID,
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(t.c.cfg.AssertionLifetime)),
		ID:       h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32],
	}}
	if t.c.cfg.Audience != "" {
		claims.Audience = jwt.Audience{t.c.cfg.Audience}
	}
	s, err := jwt.Signed(t.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("d1: token: sign assertion: %w", err)
	}
	return s, nil
}

// get returns a valid access token, fetching one when the cached one is missing or close to
// expiry. Concurrent callers share one fetch.
func (t *tokenSource) get(ctx context.Context, correlationID string) (string, error) {
	if tok, ok := t.cached(); ok {
		return tok, nil
	}
	ch := t.flight.DoChan("token", func() (any, error) {
		if tok, ok := t.cached(); ok {
			return tok, nil
		}
		// The fetch outlives a caller that gives up, so the others still get the token.
		fctx, cancel := detachedContext(ctx, t.c.cfg.Timeout)
		defer cancel()
		return t.fetch(fctx, correlationID)
	})
	select {
	case <-ctx.Done():
		return "", newError("token", classifyTransport(ctx, ctx.Err()), 0, correlationID, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// cached returns the current token when it is still good.
func (t *tokenSource) cached() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.c.clock.Now().Before(t.refreshAt) {
		return t.token, true
	}
	return "", false
}

// invalidate drops tok if it is still the cached token (a 401 proved it dead).
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token = ""
	}
}

// fetch performs the token request and caches the result.
func (t *tokenSource) fetch(ctx context.Context, correlationID string) (tok string, err error) {
	start := time.Now()
	defer func() { t.c.metrics.ObserveCall("token", ClassOf(err), time.Since(start)) }()
	now := t.c.clock.Now()
	assertion, err := t.assertion(now)
	if err != nil {
		return "", newError("token", ClassBadRequest, 0, correlationID, err)
	}
	form := url.Values{"grant_type": {GrantTypeJWTBearer}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", newError("token", ClassBadRequest, 0, correlationID, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderCorrelationID, correlationID)

	cb, err := t.c.breakers.begin("token", t.c.cfg.AuthzURL)
	if err != nil {
		return "", newError("token", ClassCircuitOpen, 0, correlationID, nil)
	}
	defer func() { cb.end("", err) }()
	resp, err := t.c.roundTrip(ctx, "token", req)
	if err != nil {
		e := newError("token", classifyTransport(ctx, err), resp.status, correlationID, transportCause(err))
		e.Attempts = 1
		return "", e
	}
	switch {
	case resp.status == http.StatusOK:
	case resp.status == http.StatusBadRequest || resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden:
		e := newError("token", ClassUnauthorized, resp.status, correlationID, errors.New("token request rejected"))
		e.Code, e.Attempts = errorCode(resp.body), 1
		return "", e
	default:
		return "", newError("token", ClassBadResponse, resp.status, correlationID, errors.New("unexpected status"))
	}
	var w wireToken
	if err := json.Unmarshal(resp.body, &w); err != nil {
		return "", newError("token", ClassBadResponse, resp.status, correlationID, fmt.Errorf("decode token: %w", safeJSONError(err)))
	}
	if w.AccessToken == "" || len(w.AccessToken) > 8192 {
		return "", newError("token", ClassBadResponse, resp.status, correlationID, errors.New("no usable access_token"))
	}
	if w.TokenType != "" && !strings.EqualFold(w.TokenType, "Bearer") {
		return "", newError("token", ClassBadResponse, resp.status, correlationID, errors.New("token_type is not Bearer"))
	}
	// D1 documents a 15-minute token; a missing or absurd expires_in falls back to that.
	lifetime := 900 * time.Second
	if w.ExpiresIn > 0 && w.ExpiresIn <= 86400 {
		lifetime = time.Duration(w.ExpiresIn * float64(time.Second))
	}
	refreshAt := now.Add(lifetime - t.c.cfg.TokenRefreshMargin)
	if lifetime <= t.c.cfg.TokenRefreshMargin {
		refreshAt = now.Add(lifetime / 2)
	}
	t.mu.Lock()
	t.token, t.refreshAt = w.AccessToken, refreshAt
	t.mu.Unlock()
	return w.AccessToken, nil
}

// detachedContext returns a context that ignores parent's cancellation but keeps its values
// and a deadline no later than parent's deadline or now+limit. Work shared by several callers
// runs under it so one caller giving up does not fail the others.
func detachedContext(parent context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(limit)
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(parent), deadline)
}
