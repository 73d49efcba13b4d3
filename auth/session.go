package auth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/sessions"
)

// Session is the typed view of one request's session. It is the only way the rest of ctpdesk
// reads or changes what a session holds.
type Session struct {
	raw   *sessions.Session
	store *SessionStore
}

func (s *Session) data() *sessionData {
	if s == nil || s.raw == nil {
		return nil
	}
	d, _ := s.raw.Values[dataKey{}].(*sessionData)
	return d
}

// User returns the signed-in user, or false for an anonymous session. The user's roles are
// mapped from the session's provider groups now, through the store's current role map: roles
// are never frozen into a session.
func (s *Session) User() (User, bool) {
	d := s.data()
	if d == nil {
		return User{}, false
	}
	u := d.User
	u.Roles = s.store.cfg.Roles.Roles(d.Groups)
	return u, true
}

// CSRFToken returns the session's CSRF token, or "" for an anonymous session.
func (s *Session) CSRFToken() string {
	if d := s.data(); d != nil {
		return d.CSRF
	}
	return ""
}

// IDToken returns the raw ID token of the sign-in, kept as the id_token_hint for the
// provider's end-session endpoint.
func (s *Session) IDToken() string {
	if d := s.data(); d != nil {
		return d.IDToken
	}
	return ""
}

// Load returns the request's session. It never returns nil: with no valid session the result
// is anonymous. An expired session comes back as an anonymous one plus an *ExpiredError.
func (s *SessionStore) Load(r *http.Request) (*Session, error) {
	raw, err := s.Get(r, s.cookieName)
	if raw == nil {
		raw = sessions.NewSession(s, s.cookieName)
		raw.Options = s.options()
	}
	return &Session{raw: raw, store: s}, err
}

// Grant is what the provider vouched for at sign-in or at a re-check: who the person is, the
// groups it reported (the roles are mapped from them on every request), and the tokens kept on
// the server: the ID token as the sign-out hint, the refresh token for the next re-check.
type Grant struct {
	User         User
	Groups       []string
	IDToken      string
	RefreshToken string
}

// Start signs a person in: any previous session of this browser is deleted and a new one is
// created under a fresh id (no session fixation), with a fresh CSRF token. The provider's word
// counts as checked now.
func (s *SessionStore) Start(w http.ResponseWriter, r *http.Request, g Grant) (*Session, error) {
	old, err := s.Load(r)
	var expired *ExpiredError
	if err != nil && !errors.As(err, &expired) {
		return nil, err
	}
	if old.raw.ID != "" {
		ctx, cancel := s.dbContext(r.Context())
		err := s.deleteRow(ctx, hashToken(old.raw.ID))
		cancel()
		if err != nil {
			return nil, err
		}
	}
	raw := sessions.NewSession(s, s.cookieName)
	raw.Options = s.options()
	raw.IsNew = true
	user := g.User
	user.Roles = nil
	raw.Values[dataKey{}] = &sessionData{
		User: user, Groups: g.Groups, CSRF: newToken(), IDToken: g.IDToken,
		refresh: g.RefreshToken, opened: true, CheckedAt: s.cfg.Now().UnixMilli(),
	}
	if err := s.Save(r, w, raw); err != nil {
		return nil, fmt.Errorf("auth: start session: %w", err)
	}
	return &Session{raw: raw, store: s}, nil
}

// End deletes the session on the server and clears its cookie.
func (s *SessionStore) End(w http.ResponseWriter, r *http.Request, sess *Session) error {
	if sess == nil || sess.raw == nil {
		return nil
	}
	sess.raw.Options = s.options()
	sess.raw.Options.MaxAge = -1
	return s.Save(r, w, sess.raw)
}
