package e2e_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/browsertest"

	"github.com/chromedp/chromedp"
)

func TestSecurityHeadersOnPagesErrorsAndStaticFiles(t *testing.T) {
	a := startApp(t, "dev", nil)
	_, home := a.get(t, "/")
	css := regexpFind(t, home, `href="(/static/css/app\.css\?v=[0-9a-f]+)"`)
	for _, path := range []string{"/", "/no-such-page", css, "/static/nope.js", "/healthz"} {
		resp, _ := a.get(t, path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows unsafe sources: %q", path, csp)
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
			"X-Frame-Options":        "DENY",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
		if h.Get("Permissions-Policy") == "" {
			t.Errorf("%s: no Permissions-Policy", path)
		}
		if h.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
		if !strings.HasPrefix(path, "/static/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", path, h.Get("Cache-Control"))
		}
		// Plain http on loopback: HSTS would be wrong here.
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain http", path)
		}
	}
}

func TestQueryStringsAndFormValuesNeverReachTheLog(t *testing.T) {
	a := startApp(t, "dev", nil)
	const marker = "zq-marker-7c1f"
	a.get(t, "/?q="+marker)
	a.get(t, "/customers?q="+marker+"%40example.com")
	a.get(t, "/no-such-page?email="+marker)
	resp, err := http.Post(a.URL+"/logout", "application/x-www-form-urlencoded", strings.NewReader("reason="+marker))
	if err == nil {
		resp.Body.Close()
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := a.Stderr.String() + a.Stdout.String()
	if !strings.Contains(logs, `"msg":"http request"`) {
		t.Fatalf("no access log lines were written:\n%s", logs)
	}
	if strings.Contains(logs, marker) {
		t.Errorf("a query string or form value reached the log:\n%s", logs)
	}
}

func TestErrorPagesCarryTheRequestID(t *testing.T) {
	a := startApp(t, "dev", nil)
	resp, body := a.get(t, "/no-such-page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "" || !strings.Contains(body, id) {
		t.Errorf("404 page does not show the request id %q:\n%s", id, body)
	}
	// An htmx request gets a fragment, not a whole page.
	resp, body = a.get(t, "/no-such-page", "HX-Request", "true")
	if strings.Contains(body, "<html") || !strings.Contains(body, resp.Header.Get("X-Request-Id")) {
		t.Errorf("htmx 404 is not a fragment with the request id:\n%s", body)
	}
	// A JSON client gets JSON.
	resp, body = a.get(t, "/no-such-page", "Accept", "application/json")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"request_id"`) {
		t.Errorf("JSON 404: %s %s", resp.Header.Get("Content-Type"), body)
	}
	// A client cannot choose the request id.
	resp, _ = a.get(t, "/", "X-Request-Id", "<script>alert(1)</script>")
	if strings.Contains(resp.Header.Get("X-Request-Id"), "script") {
		t.Errorf("the request id was taken from the client: %q", resp.Header.Get("X-Request-Id"))
	}
}

func TestStaticAssetsAreVersionedAndCached(t *testing.T) {
	a := startApp(t, "dev", nil)
	_, home := a.get(t, "/")
	for _, pattern := range []string{`href="(/static/css/app\.css\?v=[0-9a-f]{16})"`, `src="(/static/js/htmx\.min\.js\?v=[0-9a-f]{16})"`} {
		url := regexpFind(t, home, pattern)
		resp, _ := a.get(t, url)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", url, resp.StatusCode)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want a year and immutable", url, cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" || !strings.Contains(url, strings.Trim(etag, `"`)) {
			t.Errorf("%s: ETag %q does not match the URL's content hash", url, etag)
		}
		resp, _ = a.get(t, url, "If-None-Match", etag)
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: status %d, want 304", url, resp.StatusCode)
		}
		// A URL with an old hash still gets the current file, but only for a short while.
		stale := url[:strings.Index(url, "?")] + "?v=0000000000000000"
		resp, _ = a.get(t, stale)
		if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
			t.Errorf("%s: an outdated version is cached as immutable: %q", stale, cc)
		}
	}
}

func TestHomePageInChromium(t *testing.T) {
	a := startApp(t, "dev", nil)
	b := browsertest.New(t, 60*time.Second)
	b.Do(chromedp.Navigate(a.URL + "/"))
	b.Do(chromedp.WaitVisible(chromedp.CSS("header.app-header")))
	title, err := chromedp.Run(b.Ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(title, "ctpdesk") {
		t.Errorf("title %q", title)
	}
	// The stylesheet applied: Pico sets the body font through its variables.
	font, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).fontFamily`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(font, "system-ui") {
		t.Errorf("body font %q: the stylesheet did not load", font)
	}
	htmxLoaded, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`typeof htmx === "object" && htmx.version.startsWith("2.0.")`))
	if err != nil || !htmxLoaded {
		t.Errorf("htmx 2.0 did not load: %v", err)
	}
	b.Screenshot("home")
	b.AssertClean()
}

func TestReadyzReportsEachDatabase(t *testing.T) {
	a := startApp(t, "dev", nil)
	resp, body := a.get(t, "/readyz")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{`"issuer database":"ok"`, `"dashboard database":"ok"`} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz lacks %s: %s", want, body)
		}
	}
	// The report never carries an error text that could leak a connection string.
	if strings.Contains(body, "sqlite:") || strings.Contains(body, "postgres") {
		t.Errorf("/readyz leaks a database URL: %s", body)
	}
}
