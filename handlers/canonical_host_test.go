package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestSignInStartsOnTheCanonicalHost(t *testing.T) {
	public, _ := url.Parse("http://localhost:8080")
	e := echo.New()
	mustNewPermissive(t, Deps{CanonicalURL: public}).register(e, nil)
	for _, tc := range []struct {
		method, host, target string
		want                 string // Location, "" for no redirect
	}{
		{"GET", "127.0.0.1:8080", "/login?next=%2Fcustomers", "http://localhost:8080/login?next=%2Fcustomers"},
		{"GET", "127.0.0.1:8080", "/", "http://localhost:8080/"},
		{"GET", "127.0.0.1:8080", "/auth/start", "http://localhost:8080/auth/start"},
		{"HEAD", "[::1]:8080", "/login", "http://localhost:8080/login"},
		// A hostile Host header still lands on the public URL, never on itself.
		{"GET", "evil.example", "/login", "http://localhost:8080/login"},
		{"GET", "LOCALHOST:8080", "/login", ""},
		{"GET", "localhost:8080", "/login", ""},
		// Only the entry pages move: probes and callbacks answer where they are asked.
		{"GET", "127.0.0.1:8080", "/healthz", ""},
		{"GET", "127.0.0.1:8080", "/auth/callback?code=x&state=y", ""},
		{"POST", "127.0.0.1:8080", "/login", ""},
	} {
		req := httptest.NewRequest(tc.method, tc.target, nil)
		req.Host = tc.host
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		got := ""
		if w.Code == http.StatusFound {
			got = w.Header().Get("Location")
		}
		if got != tc.want {
			t.Errorf("%s %s%s: redirect %q (status %d), want %q", tc.method, tc.host, tc.target, got, w.Code, tc.want)
		}
	}
	// Without a canonical URL (production) nothing is redirected.
	e = echo.New()
	mustNewPermissive(t, Deps{}).register(e, nil)
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	req.Host = "10.0.0.7:8080"
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if w.Code == http.StatusFound {
		t.Errorf("production redirected /login to %s", w.Header().Get("Location"))
	}
}
