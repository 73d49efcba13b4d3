package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"ctpdesk/static"

	"github.com/labstack/echo/v4"
)

func newTestServer(tb testing.TB, extra func(e *echo.Echo)) (*echo.Echo, *bytes.Buffer) {
	tb.Helper()
	assets, err := static.Load("/static")
	if err != nil {
		tb.Fatal(err)
	}
	var logs bytes.Buffer
	h := mustNew(tb, Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Assets: assets, Version: "test"})
	e := echo.New()
	h.register(e, nil)
	if extra != nil {
		extra(e)
	}
	return e, &logs
}

func TestPanicBecomesA500PageWithTheRequestID(t *testing.T) {
	e, logs := newTestServer(t, func(e *echo.Echo) {
		e.GET("/boom", func(echo.Context) error { panic("kaboom") })
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	id := rec.Header().Get("X-Request-Id")
	if id == "" || !strings.Contains(rec.Body.String(), id) {
		t.Errorf("500 page lacks request id %q", id)
	}
	if strings.Contains(rec.Body.String(), "kaboom") {
		t.Error("the panic value leaked to the user")
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), id) {
		t.Errorf("the panic was not logged with the request id:\n%s", logs)
	}
	if rec.Header().Get("Content-Security-Policy") == "" {
		t.Error("500 page without CSP")
	}
}

func TestMethodNotAllowedAndTooLarge(t *testing.T) {
	e, _ := newTestServer(t, func(e *echo.Echo) {
		e.POST("/echo", func(c echo.Context) error {
			if err := c.Request().ParseForm(); err != nil {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			return c.String(http.StatusOK, "ok")
		})
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), "Method not allowed") {
		t.Errorf("DELETE /healthz: %d %s", rec.Code, rec.Body)
	}
	big := strings.NewReader("x=" + strings.Repeat("a", 300<<10))
	req := httptest.NewRequest(http.MethodPost, "/echo", big)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", rec.Code)
	}
}

func TestClientIPNeverComesFromAnUntrustedHeader(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	cases := []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     string
		want    string
	}{
		{"direct, header ignored", nil, "203.0.113.7:5000", "1.2.3.4", "203.0.113.7"},
		{"untrusted peer, header ignored", []netip.Prefix{proxy}, "203.0.113.7:5000", "1.2.3.4", "203.0.113.7"},
		{"trusted proxy, client from header", []netip.Prefix{proxy}, "10.1.1.1:5000", "198.51.100.9", "198.51.100.9"},
		{"spoofed left entries ignored", []netip.Prefix{proxy}, "10.1.1.1:5000", "6.6.6.6, 198.51.100.9", "198.51.100.9"},
		{"chain of trusted proxies", []netip.Prefix{proxy}, "10.1.1.1:5000", "198.51.100.9, 10.2.2.2", "198.51.100.9"},
		{"garbage hop stops the walk", []netip.Prefix{proxy}, "10.1.1.1:5000", "198.51.100.9, <script>", "10.1.1.1"},
		{"ipv6 peer", nil, "[2001:db8::1]:443", "", "2001:db8::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			r.Header.Set("X-Real-Ip", "9.9.9.9")
			if got := ClientIPExtractor(tc.trusted)(r); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadyzFailsWhenADependencyIsDown(t *testing.T) {
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	h := mustNew(t, Deps{Assets: assets, Ready: []ReadyCheck{
		{Name: "ok one", Probe: func(context.Context) error { return nil }},
		{Name: "broken one", Probe: func(context.Context) error { return errors.New("dial postgres://user:secret@db: refused") }},
	}})
	e := echo.New()
	h.register(e, nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `"broken one":"unavailable"`) || !strings.Contains(body, `"ok one":"ok"`) {
		t.Errorf("body %s", body)
	}
	if strings.Contains(body, "secret") {
		t.Errorf("the probe's error text leaked: %s", body)
	}
}
