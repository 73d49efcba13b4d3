package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Config describes the development provider.
type Config struct {
	// Issuer is the provider's base URL, such as http://127.0.0.1:8091.
	Issuer string
	// ClientID and ClientSecret register ctpdesk; an empty secret makes it a public client.
	ClientID     string
	ClientSecret string
	// RedirectURIs and PostLogoutRedirectURIs are ctpdesk's callback and post-sign-out pages.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// Users may sign in; nil means DefaultUsers.
	Users []User
	// Log receives the provider library's logs; nil discards them.
	Log *slog.Logger
}

// Server is a running development provider's HTTP side.
type Server struct {
	handler http.Handler
	users   *directory
	storage *storage
}

// New builds the provider: an RSA signing key made now, the in-memory storage, the op
// endpoints (discovery, JWKS, authorize, token, userinfo, end session) and the login page.
func New(cfg Config) (*Server, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("devidp: issuer %q must be an http(s) URL without a path", cfg.Issuer)
	}
	if cfg.ClientID == "" || len(cfg.RedirectURIs) == 0 {
		return nil, errors.New("devidp: a client id and a redirect URI are required")
	}
	users := cfg.Users
	if users == nil {
		users = DefaultUsers()
	}
	if err := validateUsers(users); err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devidp: signing key: %w", err)
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: token key: %w", err)
	}
	c := &client{
		id: cfg.ClientID, secret: cfg.ClientSecret,
		redirectURIs: cfg.RedirectURIs, postLogoutRedirectURIs: cfg.PostLogoutRedirectURIs,
	}
	dir := newDirectory(users)
	st := newStorage(c, dir, signingKey{id: uuid.NewString(), key: rsaKey})
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		// Refresh tokens are what ctpdesk re-checks signed-in people with.
		GrantTypeRefreshToken: true,
		AuthMethodPost:        true,
		SupportedUILocales:    []language.Tag{language.English},
		SupportedScopes:       []string{"openid", "profile", "email", scopeGroups, oidc.ScopeOfflineAccess},
	}, st, op.StaticIssuer(cfg.Issuer), op.WithAllowInsecure(), op.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("devidp: provider: %w", err)
	}
	login := &loginPage{storage: st, users: dir, callback: op.AuthCallbackURL(provider)}
	mux := http.NewServeMux()
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.Handle(loginPath, interceptor.Handler(login))
	mux.HandleFunc(loggedOutPath, loggedOut)
	mux.Handle("/", provider)
	return &Server{handler: mux, users: dir, storage: st}, nil
}

// Handler serves the provider.
func (s *Server) Handler() http.Handler { return s.handler }

// Users returns the users who can sign in, for `ctpdesk dev` to print.
func (s *Server) Users() []User { return s.users.list() }

// SetGroups replaces a user's groups while the provider runs, as an administrator removing
// someone from a group at the bank's provider would. ID tokens issued from then on, including
// those of refreshes, carry the new groups. It is a hook for tests of ctpdesk's re-check.
func (s *Server) SetGroups(username string, groups []string) error {
	return s.users.update(username, func(i int) { s.users.users[i].Groups = slices.Clone(groups) })
}

// RemoveUser deletes a user while the provider runs, as leaving the bank would: the user can
// no longer sign in, and every refresh token issued to them is refused. A test hook too.
func (s *Server) RemoveUser(username string) error {
	var subject string
	err := s.users.update(username, func(i int) {
		subject = s.users.users[i].Subject()
		s.users.users = slices.Delete(s.users.users, i, i+1)
	})
	if err != nil {
		return err
	}
	s.storage.revokeSubject(subject)
	return nil
}
