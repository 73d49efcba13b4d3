package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultRecheckEvery is how long the provider's word about a person holds: after it, the
// session asks the provider again before the next request is served.
const DefaultRecheckEvery = 15 * time.Minute

const (
	// recheckRetry spaces the attempts while the provider cannot be reached, so an outage
	// does not turn every request into a call to it.
	recheckRetry = time.Minute
	// recheckGrace is the longest a session runs on a confirmation the provider could not
	// renew because it was unreachable. A provider that answers and refuses ends the session
	// at once; one that stays silent this long ends it too.
	recheckGrace = time.Hour
	// recheckTimeout bounds the refresh call, which runs inside a user's request.
	recheckTimeout = 5 * time.Second
)

// Reasons a re-check ends a session. They are stable: the audit trail records them.
const (
	RevokedRefused   = "idp_refused"      // the provider refused the refresh token: user gone, disabled or signed out
	RevokedNoRefresh = "no_refresh_token" // the provider issued no refresh token, so it cannot be asked again
	RevokedNoRole    = "no_role"          // the person's groups no longer map to any role
	RevokedIDToken   = "id_token_invalid" // the refreshed ID token failed verification or names someone else
	RevokedSilent    = "idp_unreachable"  // the provider stayed unreachable for longer than the grace period
)

// RevokedError reports a session a re-check ended. Its row is deleted by the time the error is
// returned; the user is kept for the audit trail.
type RevokedError struct {
	User   User
	Reason string
	Err    error
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("auth: session ended by the provider re-check (%s): %v", e.Reason, e.Err)
}

// Unwrap exposes the cause.
func (e *RevokedError) Unwrap() error { return e.Err }

// Recheck asks the provider again about the person behind a signed-in session when the last
// answer is older than the store's re-check interval, by redeeming the session's refresh
// token. The new ID token's groups replace the session's at once. The session ends (its row
// deleted, its cookie cleared, a *RevokedError returned with the anonymous session) when the
// provider refuses, names someone else, leaves the person without a role, or issued no refresh
// token to ask with. While the provider cannot be reached the session goes on as it was, for
// at most recheckGrace. Concurrent requests of one session, on any replica, make one call:
// the first to claim the row does it; the others go on with the groups as they are.
func (a *Authenticator) Recheck(w http.ResponseWriter, r *http.Request, sess *Session) (*Session, error) {
	d := sess.data()
	if d == nil {
		return sess, nil
	}
	s := a.Sessions
	now := s.cfg.Now()
	checked := time.UnixMilli(d.CheckedAt)
	if now.Sub(checked) < s.cfg.Recheck {
		return sess, nil
	}
	if d.AttemptAt != 0 && now.Sub(time.UnixMilli(d.AttemptAt)) < recheckRetry {
		return sess, nil
	}
	if d.refreshToken() == "" {
		return a.revoke(w, r, sess, RevokedNoRefresh, errors.New("the session holds no refresh token"))
	}
	d.AttemptAt = now.UnixMilli()
	won, err := s.claim(r.Context(), sess.raw.ID, d)
	if err != nil {
		return sess, err
	}
	if !won {
		return sess, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), recheckTimeout)
	defer cancel()
	g, err := a.RP.refresh(ctx, d.refreshToken(), d.User)
	var outage *outageError
	switch {
	case errors.As(err, &outage):
		if now.Sub(checked) >= recheckGrace {
			return a.revoke(w, r, sess, RevokedSilent, err)
		}
		a.log().Warn("provider re-check failed; the session keeps its groups until the provider answers",
			slog.String("subject", d.User.Subject), slog.String("error", err.Error()))
		return sess, nil
	case err != nil:
		reason := RevokedRefused
		var le *LoginError
		if errors.As(err, &le) && le.Reason != ReasonExchange {
			reason = RevokedIDToken
		}
		return a.revoke(w, r, sess, reason, err)
	}
	if len(s.cfg.Roles.Roles(g.Groups)) == 0 {
		return a.revoke(w, r, sess, RevokedNoRole, errors.New("no group maps to a role any more"))
	}
	d.Groups = g.Groups
	d.User.Name, d.User.Email = g.User.Name, g.User.Email
	if g.IDToken != "" {
		d.IDToken = g.IDToken
	}
	if g.RefreshToken != "" {
		d.setRefresh(g.RefreshToken)
	}
	d.CheckedAt, d.AttemptAt = now.UnixMilli(), 0
	if err := s.Save(r, w, sess.raw); err != nil {
		if errors.Is(err, ErrSessionGone) {
			// Signed out in another tab while the provider was asked: nothing left to keep.
			delete(sess.raw.Values, dataKey{})
			return sess, nil
		}
		return sess, err
	}
	return sess, nil
}

// revoke ends sess after a re-check and returns it, now anonymous, with the reason.
func (a *Authenticator) revoke(w http.ResponseWriter, r *http.Request, sess *Session, reason string, cause error) (*Session, error) {
	u, _ := sess.User()
	if err := a.Sessions.End(w, r, sess); err != nil && !errors.Is(err, ErrSessionGone) {
		return sess, err
	}
	// The request's session registry still holds this session: empty it, so nothing later in
	// the request sees the person as signed in.
	delete(sess.raw.Values, dataKey{})
	return sess, &RevokedError{User: u, Reason: reason, Err: cause}
}

func (a *Authenticator) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}

// outageError marks a refresh that failed because the provider could not be reached or
// answered with an outage (5xx, 429), as opposed to a refusal.
type outageError struct{ err error }

func (e *outageError) Error() string { return "auth: provider unreachable: " + e.err.Error() }
func (e *outageError) Unwrap() error { return e.err }

// refresh redeems refreshToken at the provider's token endpoint and returns the person as the
// provider describes them now, from the new ID token (or, without one, from userinfo). The
// answer must be about the same person: same issuer, same subject.
func (rp *RelyingParty) refresh(ctx context.Context, refreshToken string, who User) (Grant, error) {
	d := rp.disc.Load()
	if d == nil {
		return Grant{}, &outageError{ErrSignInUnavailable}
	}
	ctx = oidc.ClientContext(ctx, rp.cfg.HTTPClient)
	tok, err := d.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 &&
			re.Response.StatusCode != http.StatusTooManyRequests {
			return Grant{}, loginErr(ReasonExchange, fmt.Errorf("refresh refused: %s", re.ErrorCode))
		}
		return Grant{}, &outageError{err}
	}
	if tok.RefreshToken == refreshToken {
		// The oauth2 package keeps the old refresh token when the answer carries none; say so
		// explicitly, so the caller keeps it too.
		tok.RefreshToken = ""
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		// OpenID Connect Core 12.2 lets a refresh answer leave the ID token out; the groups
		// then come from userinfo, for the same subject.
		if d.userInfoURL == "" {
			return Grant{}, loginErr(ReasonIDTokenMissing, errors.New("refresh answer has no id_token and the provider no userinfo"))
		}
		groups, claims, err := rp.userInfo(ctx, d, tok, who.Subject, idClaims{})
		if err != nil {
			return Grant{}, err
		}
		u := who
		if claims.displayName() != "" {
			u.Name = claims.displayName()
		}
		return Grant{User: u, Groups: groups, RefreshToken: tok.RefreshToken}, nil
	}
	idt, claims, err := rp.verifyIDToken(ctx, d, rawID)
	if err != nil {
		return Grant{}, err
	}
	if idt.Issuer != who.Issuer || idt.Subject != who.Subject {
		return Grant{}, loginErr(ReasonIDTokenInvalid, errors.New("refreshed id token names another person"))
	}
	return rp.grant(ctx, d, tok, idt, claims, rawID)
}
