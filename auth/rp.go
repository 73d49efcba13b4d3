package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SigningAlgorithms is the allow-list of ID token signature algorithms. Only asymmetric
// algorithms are on it: "none" proves nothing, and HS* would be keyed with the client secret,
// which the RP itself knows and so could be used to forge tokens.
var SigningAlgorithms = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.EdDSA,
}

// RPConfig is what the relying party needs from the configuration.
type RPConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client, which then relies on PKCE alone
	RedirectURL  string
	Scopes       []string
	// RoleClaim names the claim that carries the user's groups (default "groups").
	RoleClaim string
	// PostLogoutRedirectURL is where the provider sends the browser after its own sign-out.
	PostLogoutRedirectURL string
	// HTTPClient talks to the provider; it must have a timeout. Nil means a 10-second client.
	HTTPClient *http.Client
	// Now is the clock used to check token times; nil means time.Now.
	Now func() time.Time
	// RequireAMR, when set, refuses a sign-in whose ID token's amr claim names none of these
	// authentication methods (RFC 8176 values such as "mfa", "otp", "hwk"): it is how ctpdesk
	// checks that the provider did multi-factor authentication.
	RequireAMR []string
	// ACRValues, when set, are asked for as acr_values, and a sign-in whose ID token's acr
	// is not one of them is refused.
	ACRValues []string
	// RetryMin and RetryMax bound the wait between discovery attempts while the provider cannot
	// be reached (see StartRelyingParty); zero means one second and one minute.
	RetryMin, RetryMax time.Duration
	// Log receives the discovery retries; nil discards them.
	Log *slog.Logger
}

// DefaultScopes are the scopes asked for when none are configured. offline_access asks for
// the refresh token with which the session re-checks the person at the provider.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email", "groups", oidc.ScopeOfflineAccess}

// ErrSignInUnavailable is returned while the OpenID Provider's discovery document has not been
// read yet: nobody can sign in, while signed-in sessions keep working.
var ErrSignInUnavailable = errors.New("auth: sign-in is unavailable: the OpenID Provider cannot be reached")

// RelyingParty is ctpdesk's OpenID Connect client. Discovery runs once, at start or in the
// background until the provider answers, never per login; the provider's keys are fetched with
// a background context so a finished request never cancels a later key refresh.
type RelyingParty struct {
	cfg RPConfig
	// disc is nil until discovery has succeeded, and never changes after.
	disc atomic.Pointer[discovered]
}

// discovered is what the provider's discovery document told us.
type discovered struct {
	provider    *oidc.Provider
	oauth       oauth2.Config
	verifier    *oidc.IDTokenVerifier
	endSession  string
	userInfoURL string
}

// NewRelyingParty runs discovery against cfg.Issuer and returns a relying party. It fails when
// the provider cannot be reached or its discovery document names another issuer.
func NewRelyingParty(ctx context.Context, cfg RPConfig) (*RelyingParty, error) {
	rp := &RelyingParty{cfg: withDefaults(cfg)}
	d, _, err := rp.discover(ctx)
	if err != nil {
		return nil, err
	}
	rp.disc.Store(d)
	return rp, nil
}

// StartRelyingParty is NewRelyingParty for a server that must start while the provider is
// down. It tries discovery once under ctx. When the provider did not answer (a network error,
// a timeout, a 5xx or a 429), it returns a relying party that is not Ready yet and keeps
// retrying in the background, with capped exponential backoff and jitter, until discovery
// succeeds or bg ends; meanwhile sign-in answers ErrSignInUnavailable. When the provider did
// answer and its answer is unusable (another issuer, no such document), that is a
// configuration error and it fails at once.
func StartRelyingParty(ctx, bg context.Context, cfg RPConfig) (*RelyingParty, error) {
	rp := &RelyingParty{cfg: withDefaults(cfg)}
	d, answered, err := rp.discover(ctx)
	if err == nil {
		rp.disc.Store(d)
		return rp, nil
	}
	if answered {
		return nil, err
	}
	rp.cfg.Log.Warn("OpenID Provider unreachable: serving without sign-in and retrying discovery",
		slog.String("issuer", rp.cfg.Issuer), slog.String("error", err.Error()))
	go rp.retryDiscovery(bg)
	return rp, nil
}

func withDefaults(cfg RPConfig) RPConfig {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "groups"
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(time.Minute, cfg.RetryMin)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Ready reports whether discovery has succeeded, so people can sign in.
func (rp *RelyingParty) Ready() bool { return rp.disc.Load() != nil }

// retryDiscovery runs discovery until it succeeds or ctx ends. Each wait is drawn at random
// below a ceiling that doubles from RetryMin up to RetryMax (full jitter), so replicas that
// lost the provider together do not hammer it together when it returns.
func (rp *RelyingParty) retryDiscovery(ctx context.Context) {
	ceiling := rp.cfg.RetryMin
	for attempt := 2; ; attempt++ {
		wait := rp.cfg.RetryMin/2 + rand.N(ceiling)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		d, _, err := rp.discover(ctx)
		if err == nil {
			rp.disc.Store(d)
			rp.cfg.Log.Info("OpenID Provider reachable: sign-in available", slog.String("issuer", rp.cfg.Issuer),
				slog.Int("attempt", attempt))
			return
		}
		if ctx.Err() != nil {
			return
		}
		rp.cfg.Log.Warn("OpenID Provider discovery failed; retrying", slog.String("issuer", rp.cfg.Issuer),
			slog.Int("attempt", attempt), slog.String("error", err.Error()))
		ceiling = min(2*ceiling, rp.cfg.RetryMax)
	}
}

// discover reads the provider's discovery document. answered says the provider sent an HTTP
// answer that was not an outage (below 500, not 429): a failure is then its configuration,
// not its availability.
func (rp *RelyingParty) discover(ctx context.Context) (*discovered, bool, error) {
	cfg := rp.cfg
	watch := &answerWatch{base: cfg.HTTPClient.Transport}
	if watch.base == nil {
		watch.base = http.DefaultTransport
	}
	probe := *cfg.HTTPClient
	probe.Transport = watch
	// The discovery request obeys ctx. The provider keeps the watching client (it wraps the
	// configured one) for the key set and userinfo, but none of ctx's deadline.
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, &probe), cfg.Issuer)
	if err != nil {
		return nil, watch.answered.Load(), fmt.Errorf("auth: discovery at %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, true, fmt.Errorf("auth: discovery document: %w", err)
	}
	endpoint := provider.Endpoint()
	if cfg.ClientSecret == "" {
		// A public client sends its id in the form and proves itself with PKCE.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &discovered{
		provider: provider,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
		},
		verifier: provider.Verifier(&oidc.Config{
			ClientID:             cfg.ClientID,
			SupportedSigningAlgs: SigningAlgorithms,
			Now:                  cfg.Now,
		}),
		endSession:  meta.EndSession,
		userInfoURL: provider.UserInfoEndpoint(),
	}, true, nil
}

// answerWatch notes whether any request through it got an answer that was not an outage.
type answerWatch struct {
	base     http.RoundTripper
	answered atomic.Bool
}

func (a *answerWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.base.RoundTrip(r)
	if err == nil && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		a.answered.Store(true)
	}
	return resp, err
}

// authCodeURL returns the provider URL a sign-in starts at.
func (rp *RelyingParty) authCodeURL(p preLogin) (string, error) {
	d := rp.disc.Load()
	if d == nil {
		return "", ErrSignInUnavailable
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)}
	if len(rp.cfg.ACRValues) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(rp.cfg.ACRValues, " ")))
	}
	return d.oauth.AuthCodeURL(p.State, opts...), nil
}

// exchange trades the authorization code for tokens and returns the verified identity: the
// user (roles not yet mapped), the groups the provider reported, the raw ID token and the
// refresh token, if the provider issued one.
func (rp *RelyingParty) exchange(ctx context.Context, code string, p preLogin) (Grant, error) {
	d := rp.disc.Load()
	if d == nil {
		return Grant{}, ErrSignInUnavailable
	}
	ctx = oidc.ClientContext(ctx, rp.cfg.HTTPClient)
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return Grant{}, loginErr(ReasonExchange, err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok || rawID == "" {
		return Grant{}, loginErr(ReasonIDTokenMissing, errors.New("token response has no id_token"))
	}
	idt, claims, err := rp.verifyIDToken(ctx, d, rawID)
	if err != nil {
		return Grant{}, err
	}
	// go-oidc leaves the nonce to the caller: it binds the token to this browser's attempt.
	if !equalTokens(idt.Nonce, p.Nonce) {
		return Grant{}, loginErr(ReasonNonce, errors.New("nonce does not match"))
	}
	if err := rp.checkStrength(claims); err != nil {
		return Grant{}, err
	}
	return rp.grant(ctx, d, tok, idt, claims, rawID)
}

// checkStrength refuses a sign-in whose authentication was weaker than configured: the
// provider's amr must name one of RequireAMR and its acr be one of ACRValues, when set. Only
// the sign-in is checked: a refreshed ID token describes that same authentication.
func (rp *RelyingParty) checkStrength(c idClaims) error {
	if want := rp.cfg.RequireAMR; len(want) > 0 && !slices.ContainsFunc(c.AMR, func(m string) bool { return slices.Contains(want, m) }) {
		return loginErr(ReasonAuthStrength, fmt.Errorf("id token amr %.120q names none of %q", c.AMR, want))
	}
	if want := rp.cfg.ACRValues; len(want) > 0 && !slices.Contains(want, c.ACR) {
		return loginErr(ReasonAuthStrength, fmt.Errorf("id token acr %.60q is none of %q", c.ACR, want))
	}
	return nil
}

// verifyIDToken verifies a raw ID token (issuer, audience, expiry, signature through go-oidc)
// and checks what go-oidc leaves to the caller: iat and sub are required by OpenID Connect
// Core 3.1.3.7, iat may not lie in the future, and a token for several audiences must name
// this client as its authorized party.
func (rp *RelyingParty) verifyIDToken(ctx context.Context, d *discovered, rawID string) (*oidc.IDToken, idClaims, error) {
	idt, err := d.verifier.Verify(ctx, rawID)
	if err != nil {
		return nil, idClaims{}, loginErr(ReasonIDTokenInvalid, err)
	}
	if idt.IssuedAt.IsZero() {
		return nil, idClaims{}, loginErr(ReasonIDTokenInvalid, errors.New("id token has no iat"))
	}
	if idt.IssuedAt.After(rp.cfg.Now().Add(5 * time.Minute)) {
		return nil, idClaims{}, loginErr(ReasonIDTokenInvalid, errors.New("id token issued in the future"))
	}
	if idt.Subject == "" {
		return nil, idClaims{}, loginErr(ReasonIDTokenInvalid, errors.New("id token has no sub"))
	}
	claims, err := decodeClaims(idt.Claims)
	if err != nil {
		return nil, idClaims{}, loginErr(ReasonIDTokenInvalid, err)
	}
	if len(idt.Audience) > 1 && claims.AuthorizedParty != rp.cfg.ClientID {
		return nil, idClaims{}, loginErr(ReasonIDTokenInvalid, errors.New("id token azp is not this client"))
	}
	return idt, claims, nil
}

// grant reads the groups of a verified ID token, from the token itself or, for providers that
// keep them out of it, from userinfo, and builds the Grant.
func (rp *RelyingParty) grant(ctx context.Context, d *discovered, tok *oauth2.Token, idt *oidc.IDToken, claims idClaims, rawID string) (Grant, error) {
	groups, found, err := claims.groups(rp.cfg.RoleClaim)
	if err != nil {
		return Grant{}, loginErr(ReasonIDTokenInvalid, err)
	}
	if !found && d.userInfoURL != "" {
		// Some providers keep groups out of the ID token; ask userinfo, and take its answer
		// only for the same subject (OpenID Connect Core 5.3.2).
		groups, claims, err = rp.userInfo(ctx, d, tok, idt.Subject, claims)
		if err != nil {
			return Grant{}, err
		}
	}
	u := User{
		Issuer:  idt.Issuer,
		Subject: idt.Subject,
		Name:    claims.displayName(),
		Email:   claims.Email,
	}
	return Grant{User: u, Groups: groups, IDToken: rawID, RefreshToken: tok.RefreshToken}, nil
}

func (rp *RelyingParty) userInfo(ctx context.Context, d *discovered, tok *oauth2.Token, sub string, fromID idClaims) ([]string, idClaims, error) {
	ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fromID, loginErr(ReasonUserInfo, err)
	}
	if ui.Subject != sub {
		return nil, fromID, loginErr(ReasonUserInfo, errors.New("userinfo sub differs from the id token's"))
	}
	var c idClaims
	if err := ui.Claims(&c.raw); err != nil {
		return nil, fromID, loginErr(ReasonUserInfo, err)
	}
	if err := ui.Claims(&c); err != nil {
		return nil, fromID, loginErr(ReasonUserInfo, err)
	}
	groups, _, err := c.groups(rp.cfg.RoleClaim)
	if err != nil {
		return nil, fromID, loginErr(ReasonUserInfo, err)
	}
	if fromID.Name == "" && fromID.PreferredUsername == "" {
		fromID.Name, fromID.PreferredUsername = c.Name, c.PreferredUsername
	}
	if fromID.Email == "" {
		fromID.Email = c.Email
	}
	return groups, fromID, nil
}

// endSessionURL returns the provider's sign-out URL, or "" when it advertises none.
func (rp *RelyingParty) endSessionURL(idTokenHint string) string {
	d := rp.disc.Load()
	if d == nil || d.endSession == "" {
		return ""
	}
	u, err := url.Parse(d.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", rp.cfg.ClientID)
	if rp.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", rp.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// idClaims are the ID token claims ctpdesk reads besides the standard ones go-oidc checks.
type idClaims struct {
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	AuthorizedParty   string `json:"azp"`
	// AMR and ACR say how the person authenticated (OpenID Connect Core 2).
	AMR stringList `json:"amr"`
	ACR string     `json:"acr"`
	raw map[string]json.RawMessage
}

// stringList is a claim that should be a list of strings; a lone string is taken as a list of
// one, and any other shape as no value, so an odd claim ctpdesk does not require never breaks
// a sign-in.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var list []string
	if json.Unmarshal(b, &list) == nil {
		*l = list
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
	}
	return nil
}

func decodeClaims(decode func(any) error) (idClaims, error) {
	var c idClaims
	if err := decode(&c); err != nil {
		return c, fmt.Errorf("auth: id token claims: %w", err)
	}
	if err := decode(&c.raw); err != nil {
		return c, fmt.Errorf("auth: id token claims: %w", err)
	}
	return c, nil
}

// groups reads the role claim, which providers send as a list of strings or, with a single
// group, as a plain string.
func (c idClaims) groups(claim string) ([]string, bool, error) {
	raw, ok := c.raw[claim]
	if !ok && strings.Contains(claim, ".") {
		// Providers such as Keycloak nest roles ("realm_access.roles"); a claim whose exact name
		// has a dot still wins above.
		raw, ok = nestedClaim(c.raw, strings.Split(claim, "."))
	}
	if !ok || string(raw) == "null" {
		return nil, false, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, true, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, true, nil
	}
	return nil, true, fmt.Errorf("auth: claim %q is neither a string nor a list of strings", claim)
}

// nestedClaim follows path through nested JSON objects of the token's claims.
func nestedClaim(claims map[string]json.RawMessage, path []string) (json.RawMessage, bool) {
	raw, ok := claims[path[0]]
	for _, key := range path[1:] {
		if !ok {
			return nil, false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil, false
		}
		raw, ok = obj[key]
	}
	return raw, ok
}

func (c idClaims) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.PreferredUsername
}
