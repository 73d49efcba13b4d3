package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"ctpdesk/store"
)

// Default session lifetimes. The idle timeout is PCI DSS 8.2.8's fifteen minutes; the absolute
// lifetime covers one working day, after which staff sign in again.
const (
	DefaultIdleTimeout = 15 * time.Minute
	DefaultMaxLifetime = 10 * time.Hour
)

// touchEvery limits how often a session's last activity is written: at most one write per
// session per interval instead of one per request. The stored time can lag the real one by
// this much, so a session may end up to touchEvery early, never late.
const touchEvery = 15 * time.Second

// ErrSessionGone is returned when a session row vanished between loading and saving, which
// happens when the same session signs out in another tab.
var ErrSessionGone = errors.New("auth: session no longer exists")

// ExpiredError reports a session that existed but passed its idle or absolute limit. Its row
// is deleted by the time the error is returned; the user is kept for the audit trail.
type ExpiredError struct {
	User User
	// Reason is "idle" or "absolute".
	Reason string
}

func (e *ExpiredError) Error() string { return "auth: session expired (" + e.Reason + ")" }

// SessionConfig holds what the session store needs from the configuration.
type SessionConfig struct {
	// Idle is how long a session survives without a request.
	Idle time.Duration
	// Max is how long a session survives at all, counted from sign-in.
	Max time.Duration
	// Secure selects the __Host- cookie prefix and the Secure attribute. Only `ctpdesk dev` on
	// plain-http loopback turns it off.
	Secure bool
	// Roles maps the provider groups a session holds to ctpdesk roles. It is applied on every
	// request, so a changed mapping takes effect at the next request of every session.
	Roles RoleMap
	// Recheck is how long the provider's word about a person holds before the session asks it
	// again (DefaultRecheckEvery when zero); see Authenticator.Recheck.
	Recheck time.Duration
	// Now is the clock; nil means time.Now. Tests move it to cross the timeouts.
	Now func() time.Time
	// DBTimeout bounds the database work of one request (default DefaultDBTimeout).
	DBTimeout time.Duration
}

// sessionData is everything a session holds. It lives in the database as JSON under the
// session's hashed id and never in the cookie. Roles are not stored: they are mapped from
// Groups on every load.
type sessionData struct {
	User    User     `json:"user"`
	Groups  []string `json:"groups"`
	CSRF    string   `json:"csrf"`
	IDToken string   `json:"id_token,omitempty"`
	// SealedRefresh is the provider's refresh token, encrypted under a key derived from the
	// session's cookie value, which the database never holds (see seal.go).
	SealedRefresh string `json:"refresh,omitempty"`
	// CheckedAt is when the provider last vouched for the person (sign-in or re-check), and
	// AttemptAt when a re-check was last begun, both Unix milliseconds.
	CheckedAt int64 `json:"checked_at"`
	AttemptAt int64 `json:"attempt_at,omitempty"`

	// refresh is SealedRefresh opened, set by sign-in and re-check, or opened from the row
	// on first use (refreshToken) under sealedUnder, the cookie value it was loaded with:
	// only a re-check needs it, so ordinary requests skip the key derivation and decryption.
	refresh     string
	opened      bool
	sealedUnder string
	stored      string // the row's data as loaded, for the re-check's compare-and-swap
}

// refreshToken returns the provider's refresh token, opening the row's sealed copy the first
// time it is asked for. A sealed token that does not open (a row edited in the database) is
// dropped: the next re-check then ends the session instead of trusting it.
func (d *sessionData) refreshToken() string {
	if !d.opened {
		d.opened = true
		if d.SealedRefresh != "" && d.sealedUnder != "" {
			d.refresh, _ = openRefresh(d.sealedUnder, hashToken(d.sealedUnder), d.SealedRefresh)
		}
	}
	return d.refresh
}

// setRefresh replaces the refresh token with one the provider just issued.
func (d *sessionData) setRefresh(token string) { d.refresh, d.opened = token, true }

// dataKey is the only key this package uses in sessions.Session.Values. Being an unexported
// type, no other package can read or write the values behind it.
type dataKey struct{}

// SessionStore is a gorilla/sessions Store over the dashboard's database. The cookie carries
// only a random 256-bit id; the row is found by the id's SHA-256. Idle and absolute timeouts
// are enforced here, on the server, on every load.
type SessionStore struct {
	db          *store.DB
	cfg         SessionConfig
	cookieName  string
	loginCookie string
	// decoded keeps the last decoding of each session row this process loaded.
	decoded *decodedRows
}

// NewSessionStore returns a session store over db. Zero durations take the defaults.
func NewSessionStore(db *store.DB, cfg SessionConfig) *SessionStore {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdleTimeout
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMaxLifetime
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DBTimeout <= 0 {
		cfg.DBTimeout = DefaultDBTimeout
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = DefaultRecheckEvery
	}
	s := &SessionStore{db: db, cfg: cfg, cookieName: "ctpdesk_sid", loginCookie: "ctpdesk_login",
		decoded: newDecodedRows(decodedRowsMax)}
	if cfg.Secure {
		// __Host- makes the browser refuse the cookie unless it is Secure, host-only and for
		// path "/", so a sibling subdomain cannot plant or shadow it.
		s.cookieName = "__Host-" + s.cookieName
		s.loginCookie = "__Host-" + s.loginCookie
	}
	return s
}

// CookieName is the name of the session cookie.
func (s *SessionStore) CookieName() string { return s.cookieName }

// IdleTimeout is the configured idle timeout, which the page uses to warn before it passes.
func (s *SessionStore) IdleTimeout() time.Duration { return s.cfg.Idle }

func (s *SessionStore) options() *sessions.Options {
	return &sessions.Options{
		Path: "/",
		// MaxAge 0 makes a browser-session cookie: closing the browser forgets it, and the
		// server enforces the real limits.
		MaxAge:   0,
		Secure:   s.cfg.Secure,
		HttpOnly: true,
		// Lax, not Strict: the provider's redirect back to /auth/callback is a cross-site
		// top-level navigation, and the pre-login cookie must come with it.
		SameSite: http.SameSiteLaxMode,
	}
}

// Get returns the request's session through gorilla's per-request registry.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie. Without a cookie, with a malformed or
// unknown id, it returns a new empty session and no error. A session past its idle or absolute
// limit is deleted and reported as an *ExpiredError alongside a new empty session. A valid
// session's last-seen time is moved to now (at most every touchEvery), which is what keeps an
// active user signed in.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options()
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil || !wellFormedToken(c.Value) {
		return sess, nil
	}
	ctx, cancel := s.dbContext(r.Context())
	defer cancel()
	idHash := hashToken(c.Value)
	// The row is read on every request, on every replica: a session signed out or ended
	// anywhere is refused at its very next request. Only the decoding of a row already seen
	// is skipped (see decoded).
	var raw string
	var created, lastSeen int64
	err = s.queryRow(ctx, sqlLoadSession, idHash).Scan(&raw, &created, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		s.decoded.forget(idHash)
		return sess, nil
	}
	if err != nil {
		return sess, dbError("load session", err)
	}
	d, err := s.decoded.decode(idHash, raw)
	if err != nil {
		return sess, err
	}
	d.stored = raw
	d.sealedUnder = c.Value
	now := s.cfg.Now()
	reason := ""
	switch {
	case now.Sub(time.UnixMilli(created)) >= s.cfg.Max:
		reason = "absolute"
	case now.Sub(time.UnixMilli(lastSeen)) >= s.cfg.Idle:
		reason = "idle"
	}
	if reason != "" {
		if err := s.deleteRow(ctx, idHash); err != nil {
			return sess, err
		}
		return sess, &ExpiredError{User: d.User, Reason: reason}
	}
	if now.Sub(time.UnixMilli(lastSeen)) >= touchEvery {
		if _, err := s.exec(ctx, sqlTouchSession, now.UnixMilli(), idHash); err != nil {
			return sess, dbError("touch session", err)
		}
	}
	sess.ID = c.Value
	sess.IsNew = false
	sess.Values[dataKey{}] = d
	return sess, nil
}

// Save writes the session and its cookie. A session whose Options.MaxAge is negative is
// deleted on the server and its cookie cleared. A session without an id gets a fresh one,
// which is how login rotates the id.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx, cancel := s.dbContext(r.Context())
	defer cancel()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.deleteRow(ctx, hashToken(sess.ID)); err != nil {
				return err
			}
		}
		sess.ID = ""
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	d, ok := sess.Values[dataKey{}].(*sessionData)
	if !ok {
		// An anonymous session holds nothing worth a row.
		return nil
	}
	id, isNew := sess.ID, sess.ID == ""
	if isNew {
		id = newToken()
	}
	raw, err := d.encode(id)
	if err != nil {
		return err
	}
	now := s.cfg.Now().UnixMilli()
	if isNew {
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(
			`INSERT INTO auth_sessions (id_hash, data, created_at, last_seen_at) VALUES (?, ?, ?, ?)`),
			hashToken(id), raw, now, now); err != nil {
			return dbError("create session", err)
		}
		sess.ID = id
	} else {
		res, err := s.db.ExecContext(ctx, s.db.Rebind(
			`UPDATE auth_sessions SET data = ?, last_seen_at = ? WHERE id_hash = ?`),
			raw, now, hashToken(sess.ID))
		if err != nil {
			return dbError("save session", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return ErrSessionGone
		}
	}
	d.stored = raw
	http.SetCookie(w, sessions.NewCookie(sess.Name(), sess.ID, sess.Options))
	return nil
}

// encode returns the row's data for the session whose cookie value is id, sealing the refresh
// token under that id.
func (d *sessionData) encode(id string) (string, error) {
	token := d.refreshToken()
	d.SealedRefresh = ""
	if token != "" {
		sealed, err := sealRefresh(id, hashToken(id), token)
		if err != nil {
			return "", err
		}
		d.SealedRefresh = sealed
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("auth: encode session: %w", err)
	}
	return string(raw), nil
}

// claim moves a session's data from what was loaded to d, only if nobody changed the row in
// between, and reports whether it did. It is how one request among many (on any replica) wins
// the right to re-check a session at the provider.
func (s *SessionStore) claim(ctx context.Context, id string, d *sessionData) (bool, error) {
	raw, err := d.encode(id)
	if err != nil {
		return false, err
	}
	ctx, cancel := s.dbContext(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.db.Rebind(
		`UPDATE auth_sessions SET data = ? WHERE id_hash = ? AND data = ?`), raw, hashToken(id), d.stored)
	if err != nil {
		return false, dbError("claim session re-check", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, dbError("claim session re-check", err)
	}
	if n == 1 {
		d.stored = raw
	}
	return n == 1, nil
}

func (s *SessionStore) deleteRow(ctx context.Context, idHash string) error {
	s.decoded.forget(idHash)
	if _, err := s.exec(ctx, sqlDeleteSession, idHash); err != nil {
		return dbError("delete session", err)
	}
	return nil
}

// Purge deletes every session past its idle or absolute limit and every expired pre-login
// record, and returns how many rows went. Expired sessions are already refused on load; this
// keeps the tables small and leaves no stale identities in the database.
func (s *SessionStore) Purge(ctx context.Context) (int64, error) {
	now := s.cfg.Now()
	res, err := s.db.ExecContext(ctx, s.db.Rebind(
		`DELETE FROM auth_sessions WHERE last_seen_at <= ? OR created_at <= ?`),
		now.Add(-s.cfg.Idle).UnixMilli(), now.Add(-s.cfg.Max).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("auth: purge sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = s.db.ExecContext(ctx, s.db.Rebind(
		`DELETE FROM auth_prelogins WHERE expires_at <= ?`), now.UnixMilli())
	if err != nil {
		return n, fmt.Errorf("auth: purge pre-logins: %w", err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}

// RunPurge purges expired rows every interval until ctx ends. Errors go to report, which may
// be nil; a failed purge is retried at the next tick because the load path refuses expired
// sessions anyway.
func (s *SessionStore) RunPurge(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Purge(ctx); err != nil && report != nil && ctx.Err() == nil {
				report(err)
			}
		}
	}
}
