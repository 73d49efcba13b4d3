package devidp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/auth"
	"ctpdesk/internal/d1test"
	"ctpdesk/store"

	"github.com/labstack/echo/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// recheckRig is the development provider, a relying party with a session store on a fake
// clock, and the guard that re-checks sessions, in front of a route that prints the roles.
type recheckRig struct {
	idp   *Server
	auth  *auth.Authenticator
	clock *d1test.Clock
	e     *echo.Echo
}

func newRecheckRig(t *testing.T) *recheckRig {
	t.Helper()
	ts, idp := newTestIDP(t, "s")
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The dashboard's clock is fake; the provider keeps real time, so its tokens stay valid
	// while the dashboard's re-check interval is crossed by hand.
	clock := d1test.NewClock(time.Now())
	rp, err := auth.NewRelyingParty(context.Background(), auth.RPConfig{
		Issuer: ts.URL, ClientID: "ctpdesk-dev", ClientSecret: "s", RedirectURL: testRedirect,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A long idle timeout: these tests cross the re-check interval without keeping busy.
	sessions := auth.NewSessionStore(db, auth.SessionConfig{Idle: time.Hour, Max: 10 * time.Hour, Roles: devRoles, Now: clock.Now, DBTimeout: 30 * time.Second})
	a := &auth.Authenticator{RP: rp, Sessions: sessions}
	rig := &recheckRig{idp: idp, auth: a, clock: clock, e: echo.New()}
	guard := &auth.Guard{Sessions: sessions, LoginPath: "/login", Recheck: a}
	rig.e.GET("/whoami", func(c echo.Context) error {
		u, _ := auth.UserFrom(c.Request().Context())
		return c.String(http.StatusOK, strings.Join(u.RoleNames(), ","))
	}, guard.For(http.MethodGet, "/whoami", auth.Access{Roles: auth.AllRoles})...)
	return rig
}

// signIn signs username in through the provider's login form and returns the session cookie.
func (rig *recheckRig) signIn(t *testing.T, username string) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	authURL, err := rig.auth.BeginLogin(w, httptest.NewRequest(http.MethodGet, "/auth/start", nil), "/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(authURL, "offline_access") {
		t.Errorf("the authorization request does not ask for offline_access: %s", authURL)
	}
	final, _ := signIn(t, authURL, username, DefaultPassword)
	r := httptest.NewRequest(http.MethodGet, final.String(), nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	w2 := httptest.NewRecorder()
	if _, _, err := rig.auth.FinishLogin(w2, r, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range w2.Result().Cookies() {
		if c.Name == rig.auth.Sessions.CookieName() {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// roles requests /whoami as the session and returns the status and the roles.
func (rig *recheckRig) roles(c *http.Cookie) (int, string) {
	r := httptest.NewRequest(http.MethodGet, "/whoami", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	rig.e.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// passInterval moves the dashboard's clock past the re-check interval, with a request halfway
// so the session is not idle.
func (rig *recheckRig) passInterval(t *testing.T, c *http.Cookie) {
	t.Helper()
	rig.clock.Advance(auth.DefaultRecheckEvery / 2)
	if code, _ := rig.roles(c); code != http.StatusOK {
		t.Fatalf("request halfway through the interval: %d", code)
	}
	rig.clock.Advance(auth.DefaultRecheckEvery/2 + time.Second)
}

// TestRecheckFollowsGroupChangesAtTheProvider: a group removed from a user at the development
// provider while they are signed in changes their roles at the first request after the
// re-check interval; the refresh token it issued at sign-in is what asks.
func TestRecheckFollowsGroupChangesAtTheProvider(t *testing.T) {
	rig := newRecheckRig(t)
	c := rig.signIn(t, "fraud")
	if _, roles := rig.roles(c); roles != "fraud" {
		t.Fatalf("after sign-in: roles %q", roles)
	}
	if err := rig.idp.SetGroups("fraud", []string{"cs-agents"}); err != nil {
		t.Fatal(err)
	}
	if _, roles := rig.roles(c); roles != "fraud" {
		t.Errorf("before the interval the session must keep what the provider said: %q", roles)
	}
	rig.passInterval(t, c)
	if code, roles := rig.roles(c); code != http.StatusOK || roles != "agent" {
		t.Fatalf("after the interval: %d roles %q, want agent", code, roles)
	}
	// Removing the last mapped group ends the session at the next re-check.
	if err := rig.idp.SetGroups("fraud", nil); err != nil {
		t.Fatal(err)
	}
	rig.passInterval(t, c)
	if code, _ := rig.roles(c); code != http.StatusSeeOther {
		t.Errorf("with no group left: %d, want the session ended (303 to sign in)", code)
	}
}

// TestRecheckEndsTheSessionOfARemovedUser: a user deleted at the provider has their refresh
// token refused, and their ctpdesk session ends at the next re-check.
func TestRecheckEndsTheSessionOfARemovedUser(t *testing.T) {
	rig := newRecheckRig(t)
	c := rig.signIn(t, "agent")
	other := rig.signIn(t, "auditor")
	if err := rig.idp.RemoveUser("agent"); err != nil {
		t.Fatal(err)
	}
	rig.passInterval(t, c)
	if code, _ := rig.roles(c); code != http.StatusSeeOther {
		t.Errorf("removed user: %d, want the session ended (303 to sign in)", code)
	}
	if code, roles := rig.roles(other); code != http.StatusOK || roles != "auditor" {
		t.Errorf("another user after the re-check: %d %q", code, roles)
	}
	if err := rig.idp.RemoveUser("nobody-such"); err == nil {
		t.Error("removing an unknown user succeeded")
	}
}

// TestRefreshTokensRotate: each refresh token works once; the one issued in its place works
// next, and none works for a removed user.
func TestRefreshTokensRotate(t *testing.T) {
	_, idp := newTestIDP(t, "s")
	st := idp.storage
	ctx := context.Background()
	a := &authRequest{subject: User{Username: "agent"}.Subject(), clientID: "ctpdesk-dev", scopes: []string{"openid", "offline_access"}, authTime: time.Now()}
	_, first, _, err := st.CreateAccessAndRefreshTokens(ctx, a, "")
	if err != nil || first == "" {
		t.Fatalf("no refresh token for offline_access: %q %v", first, err)
	}
	req, err := st.TokenRequestByRefreshToken(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	_, second, _, err := st.CreateAccessAndRefreshTokens(ctx, req.(op.TokenRequest), first)
	if err != nil || second == "" || second == first {
		t.Fatalf("refresh did not rotate: %q %v", second, err)
	}
	if _, err := st.TokenRequestByRefreshToken(ctx, first); err == nil {
		t.Error("a used refresh token still works")
	}
	if _, err := st.TokenRequestByRefreshToken(ctx, second); err != nil {
		t.Errorf("the new refresh token does not work: %v", err)
	}
	if err := idp.RemoveUser("agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TokenRequestByRefreshToken(ctx, second); err == nil {
		t.Error("a removed user's refresh token still works")
	}
}
