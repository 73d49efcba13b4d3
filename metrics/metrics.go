// Package metrics exposes ctpdesk's measurements in the Prometheus format: request latency by
// route, D1 latency and outcome by class, cache and circuit-breaker state, audit commit latency
// and batch size, active sessions and the issuer searches waiting for a turn. Labels are route
// patterns and classes only, never a customer id or any other value a user typed.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds ctpdesk's collectors in a registry of its own, so tests can build as many as
// they like and nothing is registered globally.
type Metrics struct {
	reg *prometheus.Registry

	httpDuration  *prometheus.HistogramVec
	d1Calls       *prometheus.HistogramVec
	d1Attempts    *prometheus.CounterVec
	d1Retries     *prometheus.CounterVec
	d1Cache       *prometheus.CounterVec
	d1Breaker     *prometheus.GaugeVec
	auditCommit   prometheus.Histogram
	auditBatch    prometheus.Histogram
	auditFailures prometheus.Counter

	mu       sync.Mutex
	breakers map[string]string
}

// New builds the collectors. sessions, when not nil, is asked for the number of active sessions
// at each scrape.
func New(version string, sessions func() float64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), breakers: map[string]string{}}
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ctpdesk_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by method, route pattern and status class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "status"})
	m.d1Calls = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ctpdesk_d1_call_duration_seconds",
		Help:    "Time of a whole D1 operation (retries included, cache hits excluded), by operation and outcome class.",
		Buckets: []float64{.01, .025, .05, .1, .2, .3, .5, 1, 2, 3, 5},
	}, []string{"op", "class"})
	m.d1Attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ctpdesk_d1_attempts_total",
		Help: "HTTP requests sent to D1, by operation and response status (0: no response).",
	}, []string{"op", "status"})
	m.d1Retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ctpdesk_d1_retries_total",
		Help: "Retries of D1 requests, by operation and reason.",
	}, []string{"op", "reason"})
	m.d1Cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ctpdesk_d1_cache_total",
		Help: "Profile cache outcomes: hit, miss, shared (joined a call in flight), stale (served after D1 failed).",
	}, []string{"outcome"})
	m.d1Breaker = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ctpdesk_d1_breaker_state",
		Help: "Circuit breaker state per D1 base URL: 1 for the current state, 0 for the others.",
	}, []string{"base_url", "state"})
	m.auditCommit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ctpdesk_audit_commit_duration_seconds",
		Help:    "Time of one durable audit commit (one batch).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.auditBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ctpdesk_audit_batch_size",
		Help:    "Audit events committed together in one transaction (group commit).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	m.auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ctpdesk_audit_commit_failures_total",
		Help: "Audit commits that failed; each failed request was refused with 503.",
	})
	m.reg.MustRegister(m.httpDuration, m.d1Calls, m.d1Attempts, m.d1Retries, m.d1Cache, m.d1Breaker,
		m.auditCommit, m.auditBatch, m.auditFailures,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "ctpdesk_build_info",
			Help:        "Always 1; the version label says which build is running.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	if sessions != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ctpdesk_sessions_active",
			Help: "Signed-in sessions that have not expired.",
		}, sessions))
	}
	return m
}

// WatchSearchesWaiting adds the number of issuer searches waiting for a turn (at most
// CTPDESK_ISSUER_SEARCHES run at once), asked of waiting at each scrape: above 0 for long,
// searches queue behind each other, and the setting or the machine is too small for the load.
func (m *Metrics) WatchSearchesWaiting(waiting func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ctpdesk_issuer_searches_waiting",
		Help: "Issuer searches waiting for a turn (CTPDESK_ISSUER_SEARCHES run at once).",
	}, waiting))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one served HTTP request. route is the route pattern, never the path.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	m.httpDuration.WithLabelValues(method, route, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
}

// ObserveCall records a whole D1 operation (d1.Metrics).
func (m *Metrics) ObserveCall(op, class string, d time.Duration) {
	m.d1Calls.WithLabelValues(op, class).Observe(d.Seconds())
}

// ObserveAttempt records one HTTP request to D1 (d1.Metrics).
func (m *Metrics) ObserveAttempt(op string, status int, _ time.Duration) {
	m.d1Attempts.WithLabelValues(op, strconv.Itoa(status)).Inc()
}

// ObserveRetry records a retry (d1.Metrics).
func (m *Metrics) ObserveRetry(op, reason string) { m.d1Retries.WithLabelValues(op, reason).Inc() }

// ObserveCache records a cache outcome (d1.Metrics).
func (m *Metrics) ObserveCache(outcome string) { m.d1Cache.WithLabelValues(outcome).Inc() }

// ObserveBreaker records a breaker state change (d1.Metrics).
func (m *Metrics) ObserveBreaker(baseURL, state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.breakers[baseURL] = state
	for _, s := range []string{"closed", "half-open", "open"} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.d1Breaker.WithLabelValues(baseURL, s).Set(v)
	}
}

// BreakerState returns the last recorded state of the breaker for baseURL.
func (m *Metrics) BreakerState(baseURL string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.breakers[baseURL]
}

// ObserveAuditCommit records one audit batch commit: its size, how long it took and whether
// it failed.
func (m *Metrics) ObserveAuditCommit(batch int, d time.Duration, err error) {
	if err != nil {
		m.auditFailures.Inc()
		return
	}
	m.auditCommit.Observe(d.Seconds())
	m.auditBatch.Observe(float64(batch))
}
