package handlers

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ctpdesk/static"

	"github.com/labstack/echo/v4"
)

// TestHSTSOverHTTPS: with an https public URL (SecureTransport) every response, pages, errors
// and static files, carries Strict-Transport-Security for two years and subdomains; a request
// that arrived over TLS carries it too; plain http on a dev loopback never does.
func TestHSTSOverHTTPS(t *testing.T) {
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(secure bool, target string, overTLS bool) string {
		h := mustNew(t, Deps{Assets: assets, Version: "test", SecureTransport: secure})
		e := echo.New()
		h.register(e, nil)
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w.Header().Get("Strict-Transport-Security")
	}
	const want = "max-age=63072000; includeSubDomains"
	for _, target := range []string{"/healthz", "/login", "/no-such-page", assets.URL("css/app.css")} {
		if got := serve(true, target, false); got != want {
			t.Errorf("https public URL, %s: HSTS %q, want %q", target, got, want)
		}
		if got := serve(false, target, true); got != want {
			t.Errorf("request over TLS, %s: HSTS %q, want %q", target, got, want)
		}
		if got := serve(false, target, false); got != "" {
			t.Errorf("plain http, %s: HSTS %q, want none", target, got)
		}
	}
}

// TestTraceIsRefused: no route answers TRACE (it would echo the request, cookies included, to
// a script that can read the answer).
func TestTraceIsRefused(t *testing.T) {
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	h := mustNew(t, Deps{Assets: assets, Version: "test"})
	e := echo.New()
	h.register(e, nil)
	for _, target := range []string{"/", "/login", "/customers", "/healthz", assets.URL("css/app.css")} {
		r := httptest.NewRequest(http.MethodTrace, target, nil)
		r.Header.Set("Cookie", "ctpdesk_sid=secret-value")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed || strings.Contains(w.Body.String(), "secret-value") {
			t.Errorf("TRACE %s: %d %q", target, w.Code, w.Body.String())
		}
	}
}
