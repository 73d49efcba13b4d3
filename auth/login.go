package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Reasons a sign-in is refused. They are stable: the audit trail and the error page show them.
const (
	ReasonNoPreLogin     = "prelogin_missing"
	ReasonStateMissing   = "state_missing"
	ReasonStateMismatch  = "state_mismatch"
	ReasonProviderError  = "provider_error"
	ReasonCodeMissing    = "code_missing"
	ReasonExchange       = "code_exchange_failed"
	ReasonIDTokenMissing = "id_token_missing"
	ReasonIDTokenInvalid = "id_token_invalid"
	ReasonNonce          = "nonce_mismatch"
	ReasonAuthStrength   = "mfa_missing" // amr or acr do not show the required (multi-factor) authentication
	ReasonUserInfo       = "userinfo_invalid"
	ReasonNoRole         = "no_role"
	ReasonSession        = "session_failed"
	ReasonNotRecorded    = "audit_failed"
)

// ErrLoginRefused is what every *LoginError matches with errors.Is.
var ErrLoginRefused = errors.New("auth: sign-in refused")

// LoginError is a refused sign-in: a stable reason for people and the audit trail, and the
// underlying cause for the logs.
type LoginError struct {
	Reason string
	// User is set when the provider's identity was verified but ctpdesk refused it anyway
	// (no role), so the refusal can be audited against the person.
	User *User
	Err  error
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("auth: sign-in refused (%s): %v", e.Reason, e.Err)
}

// Unwrap exposes the cause.
func (e *LoginError) Unwrap() error { return e.Err }

// Is makes every LoginError match ErrLoginRefused.
func (e *LoginError) Is(target error) bool { return target == ErrLoginRefused }

func loginErr(reason string, err error) error { return &LoginError{Reason: reason, Err: err} }

// Authenticator runs sign-in, sign-out and the re-check of live sessions at the provider:
// the relying party plus the session store.
type Authenticator struct {
	RP       *RelyingParty
	Sessions *SessionStore
	// Log receives re-checks that could not reach the provider; nil discards them.
	Log *slog.Logger
}

// Available reports whether people can sign in: the provider's discovery has succeeded.
func (a *Authenticator) Available() bool { return a.RP.Ready() }

// BeginLogin records a new pre-login (state, nonce, PKCE verifier) for this browser and returns
// the provider URL to send it to. returnTo is where the user lands after signing in; anything
// but a local path becomes "/".
func (a *Authenticator) BeginLogin(w http.ResponseWriter, r *http.Request, returnTo string) (string, error) {
	if !a.RP.Ready() {
		// Checked before the pre-login row is written: nothing is stored for a sign-in
		// that cannot happen.
		return "", ErrSignInUnavailable
	}
	p, err := a.Sessions.beginPreLogin(w, r, SafeReturnPath(returnTo))
	if err != nil {
		return "", err
	}
	return a.RP.authCodeURL(p)
}

// FinishLogin handles the provider's redirect back: the pre-login record is taken (single use),
// the state compared in constant time, the code exchanged with the PKCE verifier, the ID token
// verified, roles mapped, approve called, and a new session started. approve (which may be
// nil) is where the caller writes the audit event: if it fails, no session is created. It
// returns the signed-in user and the local path to go to. Every refusal is a *LoginError and
// leaves no session behind; while the provider has not been reached the error is
// ErrSignInUnavailable instead.
func (a *Authenticator) FinishLogin(w http.ResponseWriter, r *http.Request, approve func(User) error) (User, string, error) {
	q := r.URL.Query()
	p, err := a.Sessions.consumePreLogin(w, r)
	if errors.Is(err, ErrNoPreLogin) {
		return User{}, "", loginErr(ReasonNoPreLogin, err)
	}
	if err != nil {
		return User{}, "", err
	}
	state := q.Get("state")
	if state == "" {
		return User{}, "", loginErr(ReasonStateMissing, errors.New("callback has no state"))
	}
	if !equalTokens(state, p.State) {
		return User{}, "", loginErr(ReasonStateMismatch, errors.New("state does not match"))
	}
	if e := q.Get("error"); e != "" {
		// The provider's error code is a short registered token; its description is free text
		// and stays out of logs and pages.
		return User{}, "", loginErr(ReasonProviderError, fmt.Errorf("provider answered %.40q", e))
	}
	code := q.Get("code")
	if code == "" {
		return User{}, "", loginErr(ReasonCodeMissing, errors.New("callback has no code"))
	}
	g, err := a.RP.exchange(r.Context(), code, p)
	if err != nil {
		return User{}, "", err
	}
	u := g.User
	u.Roles = a.Sessions.cfg.Roles.Roles(g.Groups)
	if len(u.Roles) == 0 {
		// Deny by default: a verified person without a mapped group gets no session at all.
		return User{}, "", &LoginError{Reason: ReasonNoRole, User: &u, Err: errors.New("no group maps to a role")}
	}
	if approve != nil {
		if err := approve(u); err != nil {
			return User{}, "", &LoginError{Reason: ReasonNotRecorded, User: &u, Err: err}
		}
	}
	if _, err := a.Sessions.Start(w, r, g); err != nil {
		return User{}, "", &LoginError{Reason: ReasonSession, User: &u, Err: err}
	}
	return u, p.ReturnTo, nil
}

// Logout deletes the request's session on the server, clears its cookie and returns the
// provider's end-session URL ("" when the provider has none) and the user who signed out.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) (string, User, bool, error) {
	sess, err := a.Sessions.Load(r)
	var expired *ExpiredError
	if err != nil && !errors.As(err, &expired) {
		return "", User{}, false, err
	}
	u, ok := sess.User()
	hint := sess.IDToken()
	if err := a.Sessions.End(w, r, sess); err != nil {
		return "", u, ok, err
	}
	return a.RP.endSessionURL(hint), u, ok, nil
}

// SafeReturnPath keeps a post-login destination on this site: a path starting with one "/",
// without backslashes or control characters; anything else becomes "/".
func SafeReturnPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(p) > 2048 {
		return "/"
	}
	return p
}
