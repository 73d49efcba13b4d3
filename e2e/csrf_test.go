package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
	"ctpdesk/internal/devstack"

	"github.com/labstack/echo/v4"
)

// startInProcess builds the dev dashboard the way `ctpdesk dev` does (config, listener,
// development stack, app) and serves it until the test ends. It returns the app, for the tests
// that need to see what it registered, and its base URL.
func startInProcess(t *testing.T, extra map[string]string) (*app.App, string) {
	t.Helper()
	vars := map[string]string{
		"CTPDESK_ADDR": "127.0.0.1:0", "CTPDESK_DATA_DIR": t.TempDir(),
		"CTPDESK_SANDBOX_ADDR": "127.0.0.1:0", "CTPDESK_DEVIDP_ADDR": "127.0.0.1:0", "CTPDESK_DEV_CUSTOMERS": "200",
	}
	for k, v := range underLoad {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	cfg, err := config.Load(envFrom(vars), config.ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := app.Listen(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	stack, err := devstack.Start(ctx, cfg, io.Discard, log)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatal(err)
	}
	a, err := app.New(ctx, stack.Config, app.Options{Version: "test", Log: log})
	if err != nil {
		cancel()
		stack.Close()
		ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the app did not stop cleanly: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the app did not stop within 30s")
		}
		stack.Close()
	})
	return a, "http://" + ln.Addr().String()
}

var csrfFieldRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// signedIn signs user in through the development provider and returns the client holding
// the session and the CSRF token the pages give it.
func signedIn(t *testing.T, base, user string) (*http.Client, string) {
	t.Helper()
	client := newBrowserlikeClient(t)
	resp := devLogin(t, client, base, user)
	resp.Body.Close()
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfFieldRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("%s: the signed-in page carries no CSRF token (status %d)", user, resp.StatusCode)
	}
	return client, string(m[1])
}

// TestEveryStateChangingRouteNeedsItsOwnCSRFToken posts to every state-changing route the
// production wiring registers, as every signed-in role, once without a token and once with
// another session's token, and expects 403 each time. It goes through app.New, so it fails
// when the CSRF check is missing from the route stack production serves.
func TestEveryStateChangingRouteNeedsItsOwnCSRFToken(t *testing.T) {
	a, base := startInProcess(t, nil)
	e, ok := a.Handler().(*echo.Echo)
	if !ok {
		t.Fatalf("the app's handler is a %T, not the Echo router", a.Handler())
	}
	var targets []string
	for _, r := range e.Routes() {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			targets = append(targets, r.Method+" "+strings.ReplaceAll(r.Path, ":id", "CU00000001"))
		}
	}
	sort.Strings(targets)
	if len(targets) < 3 {
		t.Fatalf("only %d state-changing routes registered: %v", len(targets), targets)
	}
	users := []string{"agent", "fraud", "auditor"}
	clients := map[string]*http.Client{}
	tokens := map[string]string{}
	for _, u := range users {
		clients[u], tokens[u] = signedIn(t, base, u)
	}
	// A form that is valid for every route, so that only the token can be the reason for a 403.
	form := url.Values{"field": {"email"}, "source": {"issuer"}, "reason": {"customer_verified"}}
	for _, target := range targets {
		method, path, _ := strings.Cut(target, " ")
		for i, u := range users {
			foreign := tokens[users[(i+1)%len(users)]]
			for name, token := range map[string]string{"no token": "", "another session's token": foreign} {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if token != "" {
					f.Set("_csrf", token)
				}
				req, err := http.NewRequest(method, base+path, strings.NewReader(f.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				client := *clients[u]
				client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s with %s: %d, want 403", target, u, name, resp.StatusCode)
				}
			}
		}
	}
	// The control: with its own token the agent's refresh is let through, so the refusals
	// above came from the token and not from something else in the stack.
	f := url.Values{"_csrf": {tokens["agent"]}}
	req, _ := http.NewRequest(http.MethodPost, base+"/customers/CU00000001/comparison/refresh", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := clients["agent"].Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden {
		t.Errorf("the agent's refresh with its own token was refused: %d", resp.StatusCode)
	}
	// Every session is still signed in: none of the refused posts logged anyone out.
	for _, u := range users {
		resp, err := clients[u].Get(base + "/auth/session")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
			t.Errorf("%s's session after the refused posts: /auth/session = %d", u, resp.StatusCode)
		}
	}
}
