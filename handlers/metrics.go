package handlers

import (
	"net/http"
	"net/netip"

	"ctpdesk/auth"

	"github.com/labstack/echo/v4"
)

// Metrics serves the Prometheus metrics to scrapers on the configured networks
// (CTPDESK_METRICS_NETWORKS, none by default) and to signed-in auditors; everyone else gets
// 403. The metrics hold no customer data, but they describe the service's load and failures,
// which is nobody else's business.
func (h *Handler) Metrics(c echo.Context) error {
	allowed := false
	if ip, err := netip.ParseAddr(c.RealIP()); err == nil {
		ip = ip.Unmap()
		for _, p := range h.metricsNets {
			if p.Contains(ip) {
				allowed = true
				break
			}
		}
	}
	if u, ok := auth.UserFrom(c.Request().Context()); ok && u.Has(auth.RoleAuditor) {
		allowed = true
	}
	if !allowed {
		return userError(http.StatusForbidden, "Access denied", "Metrics are served to the monitoring network and to auditors only.")
	}
	h.metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}
