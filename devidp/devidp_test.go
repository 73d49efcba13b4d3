package devidp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/auth"
	"ctpdesk/store"
)

const testRedirect = "http://127.0.0.1:1/auth/callback"

// newTestIDP starts the development provider on a loopback port.
func newTestIDP(t *testing.T, secret string) (*httptest.Server, *Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	idp, err := New(Config{
		Issuer: "http://" + ts.Listener.Addr().String(), ClientID: "ctpdesk-dev", ClientSecret: secret,
		RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/login"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = idp.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, idp
}

// devRoles maps the default users' groups, as `ctpdesk dev` does.
var devRoles = auth.RoleMap{auth.RoleAgent: {"cs-agents"}, auth.RoleFraud: {"fraud-analysts"}, auth.RoleAuditor: {"it-audit"}}

func newAuthenticator(t *testing.T, issuer, secret string) *auth.Authenticator {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rp, err := auth.NewRelyingParty(context.Background(), auth.RPConfig{
		Issuer: issuer, ClientID: "ctpdesk-dev", ClientSecret: secret, RedirectURL: testRedirect,
		PostLogoutRedirectURL: "http://127.0.0.1:1/login",
	})
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Authenticator{RP: rp, Sessions: auth.NewSessionStore(db, auth.SessionConfig{Roles: devRoles, DBTimeout: 30 * time.Second})}
}

var noFollow = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// signIn walks the browser's path through the provider: authorize, login form, callback.
// It returns the URL the provider finally redirects to (ctpdesk's callback).
func signIn(t *testing.T, authURL, username, password string) (*url.URL, int) {
	t.Helper()
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loginURL, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize did not redirect to the login page: %d", resp.StatusCode)
	}
	if loginURL.Path != loginPath {
		return loginURL, resp.StatusCode
	}
	id := loginURL.Query().Get("authRequestID")
	resp, err = noFollow.PostForm(loginURL.String(), url.Values{"authRequestID": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, resp.StatusCode
	}
	next, _ := resp.Location()
	resp, err = noFollow.Get(next.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	final, err := resp.Location()
	if err != nil {
		t.Fatalf("callback step answered %d without a redirect", resp.StatusCode)
	}
	return final, resp.StatusCode
}

func TestDefaultUsersSignIn(t *testing.T) {
	for _, secret := range []string{"dev-secret-generated-at-run-time", ""} {
		name := "confidential"
		if secret == "" {
			name = "public"
		}
		t.Run(name, func(t *testing.T) {
			ts, _ := newTestIDP(t, secret)
			a := newAuthenticator(t, ts.URL, secret)
			for _, tc := range []struct {
				user string
				want auth.Role
			}{{"agent", auth.RoleAgent}, {"fraud", auth.RoleFraud}, {"auditor", auth.RoleAuditor}, {"nobody", ""}} {
				t.Run(tc.user, func(t *testing.T) {
					w := httptest.NewRecorder()
					authURL, err := a.BeginLogin(w, httptest.NewRequest(http.MethodPost, "/login", nil), "/")
					if err != nil {
						t.Fatal(err)
					}
					final, _ := signIn(t, authURL, tc.user, DefaultPassword)
					if final == nil || !strings.HasPrefix(final.String(), testRedirect+"?") {
						t.Fatalf("provider redirected to %v", final)
					}
					r := httptest.NewRequest(http.MethodGet, final.String(), nil)
					for _, c := range w.Result().Cookies() {
						r.AddCookie(c)
					}
					u, _, err := a.FinishLogin(httptest.NewRecorder(), r, nil)
					if tc.want == "" {
						var le *auth.LoginError
						if !errors.As(err, &le) || le.Reason != auth.ReasonNoRole {
							t.Fatalf("nobody: err = %v, want no_role", err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if u.Issuer != ts.URL || u.Subject != "devidp-"+tc.user || u.Name == "" || u.Email == "" ||
						len(u.Roles) != 1 || u.Roles[0] != tc.want {
						t.Errorf("user = %+v", u)
					}
				})
			}
		})
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	ts, _ := newTestIDP(t, "s")
	a := newAuthenticator(t, ts.URL, "s")
	authURL, err := a.BeginLogin(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil), "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, status := signIn(t, authURL, "agent", "wrong"); status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", status)
	}
}

func TestPKCERequired(t *testing.T) {
	ts, _ := newTestIDP(t, "s")
	q := url.Values{
		"client_id": {"ctpdesk-dev"}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"st"}, "nonce": {"n"},
	}
	resp, err := noFollow.Get(ts.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if loc == nil || loc.Query().Get("error") != "invalid_request" || !strings.Contains(loc.Query().Get("error_description"), "PKCE") {
		t.Errorf("authorize without PKCE: %d %v", resp.StatusCode, loc)
	}
	q.Set("code_challenge", "x")
	q.Set("code_challenge_method", "plain")
	resp, err = noFollow.Get(ts.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") == "" {
		t.Errorf("authorize with plain PKCE was not refused: %d %v", resp.StatusCode, loc)
	}
}

func TestDiscoveryAdvertisesEndpoints(t *testing.T) {
	ts, _ := newTestIDP(t, "s")
	a := newAuthenticator(t, ts.URL, "s")
	w := httptest.NewRecorder()
	authURL, err := a.BeginLogin(w, httptest.NewRequest(http.MethodPost, "/login", nil), "/")
	if err != nil {
		t.Fatal(err)
	}
	final, _ := signIn(t, authURL, "agent", DefaultPassword)
	r := httptest.NewRequest(http.MethodGet, final.String(), nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	w2 := httptest.NewRecorder()
	if _, _, err := a.FinishLogin(w2, r, nil); err != nil {
		t.Fatal(err)
	}
	lr := httptest.NewRequest(http.MethodPost, "/logout", nil)
	for _, c := range w2.Result().Cookies() {
		lr.AddCookie(c)
	}
	endURL, _, ok, err := a.Logout(httptest.NewRecorder(), lr)
	if err != nil || !ok || !strings.HasPrefix(endURL, ts.URL+"/end_session?") {
		t.Fatalf("Logout = %q, %v, %v", endURL, ok, err)
	}
	resp, err := noFollow.Get(endURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := resp.Location(); loc == nil || loc.String() != "http://127.0.0.1:1/login" {
		t.Errorf("end session: %d -> %v, want the post-logout redirect", resp.StatusCode, loc)
	}
}

func TestLoadUsers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `[{"username":"ops","password":"pw","name":"Ops","groups":["cs-agents"]}]`)
	users, err := LoadUsers(good)
	if err != nil || len(users) != 1 || users[0].Groups[0] != "cs-agents" {
		t.Fatalf("LoadUsers = %+v, %v", users, err)
	}
	for name, body := range map[string]string{
		"not json":       `{`,
		"empty list":     `[]`,
		"no password":    `[{"username":"a"}]`,
		"bad username":   `[{"username":"A B","password":"x"}]`,
		"duplicate user": `[{"username":"a","password":"x"},{"username":"a","password":"y"}]`,
		"wrong shape":    `{"username":"a"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadUsers(write(strings.ReplaceAll(name, " ", "_")+".json", body)); err == nil {
				t.Error("accepted")
			} else if !strings.HasPrefix(err.Error(), "devidp: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := LoadUsers(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no issuer":     {ClientID: "c", RedirectURIs: []string{testRedirect}},
		"issuer path":   {Issuer: "http://127.0.0.1:1/x", ClientID: "c", RedirectURIs: []string{testRedirect}},
		"ftp issuer":    {Issuer: "ftp://127.0.0.1:1", ClientID: "c", RedirectURIs: []string{testRedirect}},
		"no client":     {Issuer: "http://127.0.0.1:1", RedirectURIs: []string{testRedirect}},
		"no redirect":   {Issuer: "http://127.0.0.1:1", ClientID: "c"},
		"invalid users": {Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURIs: []string{testRedirect}, Users: []User{{Username: "x"}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
