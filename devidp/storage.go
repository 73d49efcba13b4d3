package devidp

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	scopeGroups = "groups"
	// authRequestLifetime bounds how long a login page may stay open.
	authRequestLifetime = 10 * time.Minute
	accessTokenLifetime = 5 * time.Minute
	// refreshTokenLifetime covers a working day, like ctpdesk's absolute session lifetime.
	refreshTokenLifetime = 10 * time.Hour
)

var (
	errNotFound       = errors.New("devidp: not found")
	errRefreshInvalid = errors.New("devidp: refresh token unknown, used, expired or its user removed")
)

// authRequest is one authorization request between /authorize and the token exchange.
type authRequest struct {
	id            string
	created       time.Time
	clientID      string
	redirectURI   string
	state         string
	nonce         string
	scopes        []string
	responseType  oidc.ResponseType
	responseMode  oidc.ResponseMode
	codeChallenge *oidc.CodeChallenge
	subject       string
	authTime      time.Time
	done          bool
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.codeChallenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// accessToken is an issued access token, looked up by userinfo.
type accessToken struct {
	subject  string
	clientID string
	scopes   []string
	expires  time.Time
}

// refreshGrant is what a refresh token stands for: the sign-in it continues. It is the
// op.RefreshTokenRequest the library builds the refreshed tokens from.
type refreshGrant struct {
	subject  string
	clientID string
	scopes   []string
	amr      []string
	authTime time.Time
	expires  time.Time
}

func (g *refreshGrant) GetAMR() []string            { return g.amr }
func (g *refreshGrant) GetAudience() []string       { return []string{g.clientID} }
func (g *refreshGrant) GetAuthTime() time.Time      { return g.authTime }
func (g *refreshGrant) GetClientID() string         { return g.clientID }
func (g *refreshGrant) GetScopes() []string         { return g.scopes }
func (g *refreshGrant) GetSubject() string          { return g.subject }
func (g *refreshGrant) SetCurrentScopes(s []string) { g.scopes = s }

// signingKey is the provider's RSA key, made at start and never written anywhere.
type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// storage is the in-memory op.Storage of the development provider.
type storage struct {
	client *client
	users  *directory
	key    signingKey
	now    func() time.Time

	mu       sync.Mutex
	requests map[string]*authRequest
	codes    map[string]string // code -> auth request id
	tokens   map[string]accessToken
	refresh  map[string]*refreshGrant // refresh token -> grant
}

var _ op.Storage = (*storage)(nil)

func newStorage(c *client, users *directory, key signingKey) *storage {
	return &storage{
		client: c, users: users, key: key, now: time.Now,
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]accessToken{},
		refresh: map[string]*refreshGrant{},
	}
}

func (s *storage) user(subject string) (User, bool) { return s.users.bySubject(subject) }

// CreateAuthRequest stores a new authorization request. PKCE with S256 is required of every
// client, confidential or not.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required")
	}
	a := &authRequest{
		id: uuid.NewString(), created: s.now(), clientID: req.ClientID, redirectURI: req.RedirectURI,
		state: req.State, nonce: req.Nonce, scopes: req.Scopes, responseType: req.ResponseType,
		responseMode:  req.ResponseMode,
		codeChallenge: &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	s.requests[a.id] = a
	return a, nil
}

// expireLocked forgets authorization requests older than their lifetime and expired tokens.
func (s *storage) expireLocked() {
	now := s.now()
	for id, a := range s.requests {
		if now.Sub(a.created) > authRequestLifetime {
			delete(s.requests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.requests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
	for rt, g := range s.refresh {
		if now.After(g.expires) {
			delete(s.refresh, rt)
		}
	}
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return nil, fmt.Errorf("%w: auth request", errNotFound)
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked()
	a, ok := s.requests[s.codes[code]]
	if !ok {
		return nil, fmt.Errorf("%w: code", errNotFound)
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return fmt.Errorf("%w: auth request", errNotFound)
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is exchanged, which makes every code single-use.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// completeLogin marks an authorization request as authenticated by the user.
func (s *storage) completeLogin(id string, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return fmt.Errorf("%w: auth request", errNotFound)
	}
	a.subject = u.Subject()
	a.authTime = s.now()
	a.done = true
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID := s.client.id
	if a, ok := req.(*authRequest); ok {
		clientID = a.clientID
	}
	id := uuid.NewString()
	exp := s.now().Add(accessTokenLifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = accessToken{subject: req.GetSubject(), clientID: clientID, scopes: req.GetScopes(), expires: exp}
	return id, exp, nil
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token: for a code
// exchange that asked for offline_access, and for every refresh. Refresh tokens rotate: the
// one redeemed is forgotten, so each works once.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	var g refreshGrant
	s.mu.Lock()
	if current != "" {
		old, ok := s.refresh[current]
		delete(s.refresh, current)
		if !ok {
			s.mu.Unlock()
			return "", "", time.Time{}, errRefreshInvalid
		}
		g = *old
	}
	s.mu.Unlock()
	if a, ok := req.(*authRequest); ok {
		g = refreshGrant{subject: a.subject, clientID: a.clientID, scopes: a.scopes, amr: a.GetAMR(), authTime: a.authTime}
	}
	if r, ok := req.(*refreshGrant); ok {
		g.scopes = r.scopes
	}
	g.expires = s.now().Add(refreshTokenLifetime)
	id, exp, err := s.CreateAccessToken(ctx, req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	rt := uuid.NewString()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh[rt] = &g
	return id, rt, exp, nil
}

// TokenRequestByRefreshToken finds the sign-in a refresh token continues. It refuses a token
// that is unknown, already used, expired, or whose user has been removed since.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, rt string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	s.expireLocked()
	g, ok := s.refresh[rt]
	s.mu.Unlock()
	if !ok {
		return nil, errRefreshInvalid
	}
	if _, exists := s.user(g.subject); !exists {
		return nil, errRefreshInvalid
	}
	c := *g
	return &c, nil
}

// revokeSubject forgets every refresh and access token of a subject.
func (s *storage) revokeSubject(subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for rt, g := range s.refresh {
		if g.subject == subject {
			delete(s.refresh, rt)
		}
	}
	for id, t := range s.tokens {
		if t.subject == subject {
			delete(s.tokens, id)
		}
	}
}

// TerminateSession forgets every access and refresh token the user holds for the client:
// signing out of the provider ends what ctpdesk could renew.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	for rt, g := range s.refresh {
		if g.subject == userID && g.clientID == clientID {
			delete(s.refresh, rt)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenOrID)
	delete(s.refresh, tokenOrID)
	return nil
}

// GetRefreshTokenInfo tells the revocation endpoint whose a refresh token is.
func (s *storage) GetRefreshTokenInfo(_ context.Context, _ string, rt string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[rt]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return g.subject, rt, nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.id {
		return nil, fmt.Errorf("%w: client", errNotFound)
	}
	return s.client, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.id || subtle.ConstantTimeCompare([]byte(secret), []byte(s.client.secret)) != 1 {
		return errors.New("devidp: invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes fills the ID token's user claims (the client asks for them there).
func (s *storage) SetUserinfoFromScopes(_ context.Context, ui *oidc.UserInfo, subject, _ string, scopes []string) error {
	return s.fillUserinfo(ui, subject, scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || s.now().After(t.expires) {
		return errors.New("devidp: access token invalid or expired")
	}
	return s.fillUserinfo(ui, subject, t.scopes)
}

func (s *storage) fillUserinfo(ui *oidc.UserInfo, subject string, scopes []string) error {
	u, ok := s.user(subject)
	if !ok {
		return fmt.Errorf("%w: user", errNotFound)
	}
	ui.Subject = u.Subject()
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.Name = u.Name
		ui.PreferredUsername = u.Username
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		ui.Email = u.Email
		ui.EmailVerified = true
	}
	if slices.Contains(scopes, scopeGroups) {
		groups := u.Groups
		if groups == nil {
			groups = []string{}
		}
		ui.AppendClaims(scopeGroups, groups)
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || s.now().After(t.expires) {
		return nil
	}
	resp.Active = true
	resp.Subject = subject
	resp.ClientID = clientID
	resp.Scope = t.scopes
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devidp: JWT profile clients are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("devidp: JWT profile clients are not supported")
}

func (s *storage) Health(context.Context) error { return nil }
