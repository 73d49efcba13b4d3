package d1_test

import (
	"context"
	"testing"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// TestMetricsHooks checks the client reports latency by outcome class, attempts, retries,
// cache outcomes and breaker state to the Metrics it was given.
func TestMetricsHooks(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *d1.Config) { c.StaleMaxAge = -1 }})
	c := e.matchCustomer(t)
	ctx := context.Background()
	if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Status: 503})
	_, _ = e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{Fresh: true})
	_, _ = e.client.GetProfiles(ctx, "unknown-consumer", d1.FetchOptions{})

	m := e.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]int{"profiles/ok": 1, "profiles/unavailable": 1, "profiles/not-found": 1, "token/ok": 1}
	for k, n := range want {
		if m.calls[k] != n {
			t.Errorf("calls[%s] = %d, want %d (all: %v)", k, m.calls[k], n, m.calls)
		}
	}
	if m.retries != 2 || m.attempts["profiles"] != 5 || m.attempts["token"] != 1 {
		t.Errorf("retries %d attempts %v", m.retries, m.attempts)
	}
	if m.cache["hit"] != 1 || m.cache["miss"] != 3 {
		t.Errorf("cache %v", m.cache)
	}
	if len(m.breaker) == 0 || m.breaker[0] != "closed" {
		t.Errorf("breaker states %v", m.breaker)
	}
}
