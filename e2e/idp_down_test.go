package e2e_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/auth"
	"ctpdesk/devidp"
	"ctpdesk/internal/app"
)

// outageServer is a loopback server that plays an OpenID Provider which is down (every
// connection is dropped at once, as when nothing answers) until Up gives it a handler.
type outageServer struct {
	ln   net.Listener
	live atomic.Pointer[http.Handler]
}

func startOutageServer(t *testing.T) *outageServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &outageServer{ln: ln}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := o.live.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return o
}

func (o *outageServer) URL() string { return "http://" + o.ln.Addr().String() }

// Up starts answering with h.
func (o *outageServer) Up(h http.Handler) { o.live.Store(&h) }

// TestStartsWhileTheProviderIsDown starts the whole dashboard (app.New, as `ctpdesk serve`
// does) while its OpenID Provider drops every connection. It must start; a session that
// already exists keeps working; the sign-in page and /auth/start answer 503 "sign-in
// unavailable" and store nothing. Then the provider comes up, and a person signs in through
// it, with no restart.
func TestStartsWhileTheProviderIsDown(t *testing.T) {
	idp := startOutageServer(t)
	const clientID, secret = "ctpdesk-e2e", "e2e-only-client-secret"
	a, base := startInProcess(t, map[string]string{
		"CTPDESK_OIDC_ISSUER": idp.URL(), "CTPDESK_OIDC_CLIENT_ID": clientID, "CTPDESK_OIDC_CLIENT_SECRET": secret,
		"CTPDESK_ROLE_AGENT": "cs-agents", "CTPDESK_ROLE_FRAUD": "fraud-analysts", "CTPDESK_ROLE_AUDITOR": "it-audit",
	})

	// A session from before the outage (minted in the dashboard's store, as a sign-in would).
	w := httptest.NewRecorder()
	grant := auth.Grant{User: auth.User{Issuer: idp.URL(), Subject: "devidp-agent", Name: "Alex Agent"}, Groups: []string{"cs-agents"}}
	if _, err := a.Sessions().Start(w, httptest.NewRequest(http.MethodGet, "/auth/callback", nil), grant); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	req, _ := http.NewRequest(http.MethodGet, base+"/customers?q=a", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an existing session while the provider is down: %d, want 200", resp.StatusCode)
	}

	for _, path := range []string{"/login", "/auth/start"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `data-testid="sign-in-unavailable"`) ||
			resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s while the provider is down: %d Retry-After %q\n%s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	var prelogins int
	if err := a.DB().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM auth_prelogins").Scan(&prelogins); err != nil || prelogins != 0 {
		t.Errorf("pre-login rows written while sign-in is unavailable: %d (%v)", prelogins, err)
	}

	provider, err := devidp.New(devidp.Config{
		Issuer: idp.URL(), ClientID: clientID, ClientSecret: secret,
		RedirectURIs: []string{app.RedirectURL(a.Config())}, PostLogoutRedirectURIs: []string{app.PostLogoutURL(a.Config())},
	})
	if err != nil {
		t.Fatal(err)
	}
	idp.Up(provider.Handler())
	// Discovery is retried in the background with backoff; wait (bounded) for sign-in to open.
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign-in still answers %d 90 s after the provider came up", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	client := newBrowserlikeClient(t)
	resp = devLogin(t, client, base, "agent")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/customers" || !strings.Contains(string(body), `data-testid="user-role"`) {
		t.Errorf("sign-in after the provider came up: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
}
