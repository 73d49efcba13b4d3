package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	Roles     RoleMap
	// PostLogoutRedirectURL is where the provider sends the browser after its own sign-out.
	PostLogoutRedirectURL string
	// HTTPClient talks to the provider; it must have a timeout. Nil means a 10-second client.
	HTTPClient *http.Client
	// Now is the clock used to check token times; nil means time.Now.
	Now func() time.Time
}

// RelyingParty is ctpdesk's OpenID Connect client. It is built once at start: discovery runs
// here, not per login, and the provider's keys are fetched with a background context so a
// finished request never cancels a later key refresh.
type RelyingParty struct {
	cfg         RPConfig
	provider    *oidc.Provider
	oauth       oauth2.Config
	verifier    *oidc.IDTokenVerifier
	endSession  string
	userInfoURL string
}

// NewRelyingParty runs discovery against cfg.Issuer and returns a relying party. It fails when
// the discovery document names another issuer than the configured one.
func NewRelyingParty(ctx context.Context, cfg RPConfig) (*RelyingParty, error) {
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
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email", "groups"}
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	// The discovery request obeys ctx; the provider keeps only the HTTP client for the key set.
	discoverCtx := oidc.ClientContext(ctx, cfg.HTTPClient)
	provider, err := oidc.NewProvider(discoverCtx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: discovery at %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("auth: discovery document: %w", err)
	}
	endpoint := provider.Endpoint()
	if cfg.ClientSecret == "" {
		// A public client sends its id in the form and proves itself with PKCE.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	rp := &RelyingParty{
		cfg:      cfg,
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
	}
	return rp, nil
}

// authCodeURL returns the provider URL a sign-in starts at.
func (rp *RelyingParty) authCodeURL(p preLogin) string {
	return rp.oauth.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
}

// exchange trades the authorization code for tokens and returns the verified identity and the
// raw ID token.
func (rp *RelyingParty) exchange(ctx context.Context, code string, p preLogin) (User, string, error) {
	ctx = oidc.ClientContext(ctx, rp.cfg.HTTPClient)
	tok, err := rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return User{}, "", loginErr(ReasonExchange, err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok || rawID == "" {
		return User{}, "", loginErr(ReasonIDTokenMissing, errors.New("token response has no id_token"))
	}
	idt, err := rp.verifier.Verify(ctx, rawID)
	if err != nil {
		return User{}, "", loginErr(ReasonIDTokenInvalid, err)
	}
	// go-oidc leaves these to the caller: the nonce binds the token to this browser's attempt;
	// iat and sub are required by OpenID Connect Core 3.1.3.7.
	if !equalTokens(idt.Nonce, p.Nonce) {
		return User{}, "", loginErr(ReasonNonce, errors.New("nonce does not match"))
	}
	if idt.IssuedAt.IsZero() {
		return User{}, "", loginErr(ReasonIDTokenInvalid, errors.New("id token has no iat"))
	}
	if idt.IssuedAt.After(rp.cfg.Now().Add(5 * time.Minute)) {
		return User{}, "", loginErr(ReasonIDTokenInvalid, errors.New("id token issued in the future"))
	}
	if idt.Subject == "" {
		return User{}, "", loginErr(ReasonIDTokenInvalid, errors.New("id token has no sub"))
	}
	claims, err := decodeClaims(idt.Claims)
	if err != nil {
		return User{}, "", loginErr(ReasonIDTokenInvalid, err)
	}
	if len(idt.Audience) > 1 && claims.AuthorizedParty != rp.cfg.ClientID {
		return User{}, "", loginErr(ReasonIDTokenInvalid, errors.New("id token azp is not this client"))
	}
	groups, found, err := claims.groups(rp.cfg.RoleClaim)
	if err != nil {
		return User{}, "", loginErr(ReasonIDTokenInvalid, err)
	}
	if !found && rp.userInfoURL != "" {
		// Some providers keep groups out of the ID token; ask userinfo, and take its answer
		// only for the same subject (OpenID Connect Core 5.3.2).
		groups, claims, err = rp.userInfo(ctx, tok, idt.Subject, claims)
		if err != nil {
			return User{}, "", err
		}
	}
	u := User{
		Issuer:  idt.Issuer,
		Subject: idt.Subject,
		Name:    claims.displayName(),
		Email:   claims.Email,
		Roles:   rp.cfg.Roles.Roles(groups),
	}
	return u, rawID, nil
}

func (rp *RelyingParty) userInfo(ctx context.Context, tok *oauth2.Token, sub string, fromID idClaims) ([]string, idClaims, error) {
	ui, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
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
	if rp.endSession == "" {
		return ""
	}
	u, err := url.Parse(rp.endSession)
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
	raw               map[string]json.RawMessage
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
