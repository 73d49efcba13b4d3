package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetricsExposeEveryFamily(t *testing.T) {
	m := New("v-test", func() float64 { return 3 })
	m.ObserveRequest("GET", "/customers/:id", 200, 12*time.Millisecond)
	m.ObserveCall("profiles", "ok", 200*time.Millisecond)
	m.ObserveAttempt("profiles", 503, time.Millisecond)
	m.ObserveRetry("profiles", "unavailable")
	m.ObserveCache("hit")
	m.ObserveBreaker("http://127.0.0.1:8090/banking/v1", "open")
	m.ObserveAuditCommit(17, 3*time.Millisecond, nil)
	m.ObserveAuditCommit(1, 0, errors.New("disk full"))
	m.WatchSearchesWaiting(func() float64 { return 2 })
	out := scrape(t, m)
	for _, want := range []string{
		`ctpdesk_http_request_duration_seconds_count{method="GET",route="/customers/:id",status="2xx"} 1`,
		`ctpdesk_d1_call_duration_seconds_count{class="ok",op="profiles"} 1`,
		`ctpdesk_d1_attempts_total{op="profiles",status="503"} 1`,
		`ctpdesk_d1_retries_total{op="profiles",reason="unavailable"} 1`,
		`ctpdesk_d1_cache_total{outcome="hit"} 1`,
		`ctpdesk_d1_breaker_state{base_url="http://127.0.0.1:8090/banking/v1",state="open"} 1`,
		`ctpdesk_d1_breaker_state{base_url="http://127.0.0.1:8090/banking/v1",state="closed"} 0`,
		`ctpdesk_audit_batch_size_sum 17`,
		`ctpdesk_audit_commit_failures_total 1`,
		`ctpdesk_sessions_active 3`,
		`ctpdesk_issuer_searches_waiting 2`,
		`ctpdesk_build_info{version="v-test"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if m.BreakerState("http://127.0.0.1:8090/banking/v1") != "open" {
		t.Error("breaker state not kept")
	}
}
