package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// ReadyCheck is one dependency /readyz asks about: a name for the report and a probe that
// returns nil when the dependency answers.
type ReadyCheck struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Healthz says the process is alive. It checks nothing else, so an orchestrator never restarts
// a healthy process because a dependency is down.
func (h *Handler) Healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz says whether every dependency answers within two seconds, probing them in parallel.
// The report names dependencies and their state only, never an error text that could leak a
// connection string.
func (h *Handler) Readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	results := make(map[string]string, len(h.ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok := true
	for _, chk := range h.ready {
		wg.Go(func() {
			state := "ok"
			if err := chk.Probe(ctx); err != nil {
				state = "unavailable"
				Logger(ctx, h.log).Warn("readiness probe failed", "dependency", chk.Name, "error", err.Error())
			}
			mu.Lock()
			results[chk.Name] = state
			if state != "ok" {
				ok = false
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	status := http.StatusOK
	overall := "ready"
	if !ok {
		status = http.StatusServiceUnavailable
		overall = "not ready"
	}
	return c.JSON(status, map[string]any{"status": overall, "checks": results})
}
