package e2e_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"

	"github.com/chromedp/chromedp"
)

// devLogin signs user in to a running `ctpdesk dev` through its development IdP with a plain
// HTTP client, as a browser would: start, provider login form, callback. It returns the last
// response (the page the dashboard lands on).
func devLogin(tb testing.TB, client *http.Client, appURL, user string) *http.Response {
	tb.Helper()
	resp, err := client.Get(appURL + "/auth/start")
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	form := resp.Request.URL
	id := form.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || id == "" {
		tb.Fatalf("sign-in did not reach the provider's login form: %d %s", resp.StatusCode, form.Redacted())
	}
	post := &url.URL{Scheme: form.Scheme, Host: form.Host, Path: form.Path}
	resp, err = client.PostForm(post.String(), url.Values{"authRequestID": {id}, "username": {user}, "password": {"demo"}})
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

func newBrowserlikeClient(tb testing.TB) *http.Client {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// TestDevLoginOverHTTP signs in as each demo user against the whole app and checks where each
// lands: "/" sends agents and fraud analysts on to the search page and auditors to the audit
// trail; nobody gets the 403 no-access page and no session.
func TestDevLoginOverHTTP(t *testing.T) {
	a := startApp(t, "dev", nil)
	home := map[string]string{"agent": "/customers", "fraud": "/customers", "auditor": "/audit"}
	for _, user := range []string{"agent", "fraud", "auditor"} {
		client := newBrowserlikeClient(t)
		resp := devLogin(t, client, a.URL, user)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != home[user] {
			t.Errorf("%s landed on %d %s, want %s", user, resp.StatusCode, resp.Request.URL.Path, home[user])
		}
		// The landing page itself is a 303 on to the role's page, never a page of its own.
		noFollow := *client
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		r, err := noFollow.Get(a.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != home[user] {
			t.Errorf("%s: / answers %d Location %q, want 303 %s", user, r.StatusCode, r.Header.Get("Location"), home[user])
		}
		if !strings.Contains(string(body), `data-testid="user-role"`) || !strings.Contains(string(body), ">"+user+"<") {
			t.Errorf("%s: the page does not show the role:\n%s", user, body)
		}
	}
	client := newBrowserlikeClient(t)
	resp := devLogin(t, client, a.URL, "nobody")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `data-testid="no-access"`) {
		t.Errorf("nobody: %d\n%s", resp.StatusCode, body)
	}
	u, _ := url.Parse(a.URL)
	for _, c := range client.Jar.Cookies(u) {
		if strings.Contains(c.Name, "sid") {
			t.Errorf("nobody got a session cookie %s", c.Name)
		}
	}
	if !strings.Contains(a.Stdout.String(), "nobody") || !strings.Contains(a.Stdout.String(), "password demo") {
		t.Errorf("ctpdesk dev did not print the demo users:\n%s", a.Stdout)
	}
}

// BenchmarkLoginRoundTrip measures one complete sign-in through the development IdP over
// loopback HTTP: /auth/start, the provider's authorize and login form, the token exchange,
// ID token verification, the session and the landing page.
func BenchmarkLoginRoundTrip(b *testing.B) {
	// One address signs in thousands of times a second here, far past the per-address
	// sign-in rate that stops a person's script (it answered 429 within the first second).
	a := startApp(b, "dev", map[string]string{"CTPDESK_SIGNIN_RATE": "6000"})
	for b.Loop() {
		resp := devLogin(b, newBrowserlikeClient(b), a.URL, "agent")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("sign-in ended with %d", resp.StatusCode)
		}
	}
}

var customerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// TestLoginLogoutInChromium signs in as agent through the development IdP in headless
// Chromium, sees the name and role, opens a customer, signs out, and checks that Back shows
// no customer data; then signs in as nobody and sees the no-access page.
func TestLoginLogoutInChromium(t *testing.T) {
	a := startApp(t, "dev", nil)
	b := browsertest.New(t, 60*time.Second)

	b.Do(chromedp.Navigate(a.URL + "/customers"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Screenshot("login-page")
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.Screenshot("devidp-login")
	b.Do(
		chromedp.SendKeys(chromedp.CSS(`#username`), "agent"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "demo"),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
	)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-name"]`)))
	name := evalString(t, b, `document.querySelector('[data-testid="user-name"]').textContent.trim()`)
	role := evalString(t, b, `document.querySelector('[data-testid="user-role"]').textContent.trim()`)
	if name != "Alex Agent" || role != "agent" {
		t.Errorf("header shows %q / %q, want Alex Agent / agent", name, role)
	}
	path := evalString(t, b, `location.pathname`)
	if path != "/customers" {
		t.Errorf("after sign-in the browser is at %q, want the page it asked for (/customers)", path)
	}
	b.Screenshot("signed-in-agent")

	// Open a customer record, and note what it shows.
	b.Do(chromedp.Navigate(a.URL + "/customers?q=a"))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-customer-id]`)))
	id := evalString(t, b, `document.querySelector('[data-customer-id]').getAttribute('data-customer-id')`)
	if !customerIDPattern.MatchString(id) {
		t.Fatalf("customer id %q", id)
	}
	b.Do(chromedp.Navigate(a.URL + "/customers/" + id))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`main`)))
	cacheControl := evalString(t, b, `fetch(location.href, {credentials: "same-origin"}).then(r => r.headers.get("cache-control") || "")`)
	if !strings.Contains(cacheControl, "no-store") {
		t.Errorf("customer page Cache-Control = %q, want no-store", cacheControl)
	}
	if !strings.Contains(evalString(t, b, `document.querySelector('main').innerText`), id) {
		t.Errorf("the customer page does not show customer %s", id)
	}
	b.Screenshot("customer-before-logout")

	// Sign out: the session ends on the server and at the provider, then the sign-in page.
	b.Do(chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-out"]`)))
	b.Screenshot("signed-out")

	// Back must not bring the customer back from any cache.
	b.Do(chromedp.NavigateBack())
	time.Sleep(500 * time.Millisecond)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`body`)))
	back := evalString(t, b, `document.body.innerText`)
	if strings.Contains(back, id) || strings.Contains(back, "Alex Agent") {
		t.Errorf("Back after sign-out shows customer data or the old session:\n%s", back)
	}
	b.Screenshot("back-after-logout")

	// nobody is known to the provider but holds no role.
	b.Do(chromedp.Navigate(a.URL + "/login"))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.Do(
		chromedp.SendKeys(chromedp.CSS(`#username`), "nobody"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "demo"),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
	)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-access"]`)))
	if n := evalString(t, b, `String(document.querySelectorAll('[data-testid="signed-in-user"]').length)`); n != "0" {
		t.Error("the no-access page shows a signed-in user")
	}
	b.Screenshot("no-access")
	// The no-access page is a 403 by design, which Chromium logs; anything else is a problem.
	for _, p := range b.Problems() {
		if !strings.Contains(p, "status of 403") || !strings.Contains(p, "/auth/callback") {
			t.Errorf("browser problem: %s", p)
		}
	}
}

func evalString(tb testing.TB, b *browsertest.Browser, js string) string {
	tb.Helper()
	out, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", js, err)
	}
	return out
}

// TestIdleWarningInChromium runs with a one-minute idle timeout: half a minute before it ends
// the page warns, and "Stay signed in" reaches the server and hides the warning.
func TestIdleWarningInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("waits half a minute for the warning")
	}
	a := startApp(t, "dev", map[string]string{"CTPDESK_SESSION_IDLE": "1m", "CTPDESK_SESSION_MAX": "15m"})
	b := browsertest.New(t, 90*time.Second)
	b.Do(chromedp.Navigate(a.URL + "/login"))
	b.Do(chromedp.Click(chromedp.CSS(`[data-testid="sign-in"]`)))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#username`)))
	b.Do(
		chromedp.SendKeys(chromedp.CSS(`#username`), "fraud"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "demo"),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
	)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="user-name"]`)))
	if hidden := evalString(t, b, `String(document.querySelector('[data-testid="idle-warning"]').hidden)`); hidden != "true" {
		t.Fatal("the idle warning shows straight after sign-in")
	}
	b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="idle-warning"]`)))
	b.Screenshot("idle-warning")
	b.Do(chromedp.Click(chromedp.CSS(`[data-idle-stay]`)))
	b.Do(chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="idle-warning"]`)))
	// Signed in from /login, the analyst went to "/", which sent them on to the search page.
	if path := evalString(t, b, `location.pathname`); path != "/customers" {
		t.Errorf("after Stay signed in the page is %q, want /customers", path)
	}
	b.AssertClean()
}
