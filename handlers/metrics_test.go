package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"ctpdesk/auth"
	"ctpdesk/static"

	"github.com/labstack/echo/v4"
)

// TestMetricsAdmitsOnlyNamedNetworksAndAuditors: with no network configured (the default)
// nobody scrapes /metrics without signing in, loopback included, since behind a sidecar proxy
// loopback is everyone; a named network is let in and nothing else; a forged X-Forwarded-For
// does not help; signed-in auditors may read the metrics from anywhere, other roles not.
func TestMetricsAdmitsOnlyNamedNetworksAndAuditors(t *testing.T) {
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	scrape := func(nets []netip.Prefix, addr string, role auth.Role, header ...string) int {
		h := mustNew(t, Deps{Assets: assets, Version: "test", MetricsNetworks: nets,
			Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ctpdesk_up 1\n")) })})
		e := echo.New()
		e.IPExtractor = ClientIPExtractor(nil)
		if role != "" {
			e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					u := auth.User{Issuer: "https://idp.test", Subject: "sub-" + string(role), Roles: []auth.Role{role}}
					c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
					return next(c)
				}
			})
		}
		h.register(e, nil)
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = addr
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w.Code
	}
	monitoring := []netip.Prefix{netip.MustParsePrefix("10.20.30.0/24")}
	for _, tc := range []struct {
		name string
		nets []netip.Prefix
		addr string
		role auth.Role
		hdr  []string
		want int
	}{
		{"default, IPv4 loopback", nil, "127.0.0.1:9000", "", nil, http.StatusForbidden},
		{"default, IPv6 loopback", nil, "[::1]:9000", "", nil, http.StatusForbidden},
		{"default, anywhere", nil, "203.0.113.9:9000", "", nil, http.StatusForbidden},
		{"named network", monitoring, "10.20.30.7:9000", "", nil, http.StatusOK},
		{"named network, IPv4-mapped", monitoring, "[::ffff:10.20.30.7]:9000", "", nil, http.StatusOK},
		{"outside the named network", monitoring, "10.20.31.7:9000", "", nil, http.StatusForbidden},
		{"loopback beside a named network", monitoring, "127.0.0.1:9000", "", nil, http.StatusForbidden},
		{"forged X-Forwarded-For", monitoring, "203.0.113.9:9000", "", []string{"X-Forwarded-For", "10.20.30.7"}, http.StatusForbidden},
		{"auditor from anywhere", nil, "203.0.113.9:9000", auth.RoleAuditor, nil, http.StatusOK},
		{"agent", nil, "203.0.113.9:9000", auth.RoleAgent, nil, http.StatusForbidden},
		{"fraud analyst", nil, "127.0.0.1:9000", auth.RoleFraud, nil, http.StatusForbidden},
	} {
		if got := scrape(tc.nets, tc.addr, tc.role, tc.hdr...); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
