package auth

import (
	"database/sql"
	"errors"
	"net/http"
	"time"
)

// preLoginLifetime bounds how long a sign-in may take between the redirect to the provider
// and its callback.
const preLoginLifetime = 10 * time.Minute

// ErrNoPreLogin is returned for a callback whose pre-login record is missing, already used or
// expired: a replayed or forged callback, or one that took too long.
var ErrNoPreLogin = errors.New("auth: no pending sign-in for this browser")

// preLogin is one sign-in attempt's secrets, kept on the server between the redirect to the
// provider and the callback, and bound to the browser by the pre-login cookie.
type preLogin struct {
	State    string
	Nonce    string
	Verifier string
	ReturnTo string
}

// beginPreLogin stores a new pre-login record and sets its cookie.
func (s *SessionStore) beginPreLogin(w http.ResponseWriter, r *http.Request, returnTo string) (preLogin, error) {
	id := newToken()
	p := preLogin{State: newToken(), Nonce: newToken(), Verifier: newToken() + newToken(), ReturnTo: returnTo}
	expires := s.cfg.Now().Add(preLoginLifetime)
	ctx, cancel := s.dbContext(r.Context())
	defer cancel()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(
		`INSERT INTO auth_prelogins (id_hash, state, nonce, verifier, return_to, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		hashToken(id), p.State, p.Nonce, p.Verifier, p.ReturnTo, expires.UnixMilli()); err != nil {
		return preLogin{}, dbError("store pre-login", err)
	}
	opts := s.options()
	opts.MaxAge = int(preLoginLifetime / time.Second)
	c := &http.Cookie{
		Name: s.loginCookie, Value: id, Path: opts.Path, MaxAge: opts.MaxAge,
		Secure: opts.Secure, HttpOnly: true, SameSite: opts.SameSite,
	}
	http.SetCookie(w, c)
	return p, nil
}

// consumePreLogin takes the request's pre-login record out of the database: whatever happens
// next, it cannot be used again. It clears the pre-login cookie too.
func (s *SessionStore) consumePreLogin(w http.ResponseWriter, r *http.Request) (preLogin, error) {
	c, err := r.Cookie(s.loginCookie)
	if err != nil || !wellFormedToken(c.Value) {
		return preLogin{}, ErrNoPreLogin
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.loginCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: s.cfg.Secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	var p preLogin
	var expires int64
	ctx, cancel := s.dbContext(r.Context())
	defer cancel()
	err = s.db.QueryRowContext(ctx, s.db.Rebind(
		`DELETE FROM auth_prelogins WHERE id_hash = ? RETURNING state, nonce, verifier, return_to, expires_at`),
		hashToken(c.Value)).Scan(&p.State, &p.Nonce, &p.Verifier, &p.ReturnTo, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return preLogin{}, ErrNoPreLogin
	}
	if err != nil {
		return preLogin{}, dbError("take pre-login", err)
	}
	if !s.cfg.Now().Before(time.UnixMilli(expires)) {
		return preLogin{}, ErrNoPreLogin
	}
	return p, nil
}
