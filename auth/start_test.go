package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestStartRelyingPartyWhileProviderIsDown: a provider in an outage does not stop the start;
// sign-in says it is unavailable (and stores no pre-login) until background discovery
// succeeds, and then works without a restart.
func TestStartRelyingPartyWhileProviderIsDown(t *testing.T) {
	h := newHarness(t)
	h.op.set(func(op *fakeOP) { op.discoveryDown = true })
	cfg := testRPConfig(h.op, h.clock)
	cfg.RetryMin, cfg.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	rp, err := StartRelyingParty(context.Background(), t.Context(), cfg)
	if err != nil {
		t.Fatalf("a provider in an outage stopped the start: %v", err)
	}
	h.auth = &Authenticator{RP: rp, Sessions: h.sessions}
	if h.auth.Available() {
		t.Fatal("sign-in available before discovery succeeded")
	}
	_, err = h.auth.BeginLogin(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/auth/start", nil), "/")
	if !errors.Is(err, ErrSignInUnavailable) || h.rows(t, "auth_prelogins") != 0 {
		t.Fatalf("BeginLogin while down: %v, %d pre-logins", err, h.rows(t, "auth_prelogins"))
	}
	h.op.set(func(op *fakeOP) { op.discoveryDown = false })
	deadline := time.Now().Add(30 * time.Second)
	for !h.auth.Available() {
		if time.Now().After(deadline) {
			t.Fatal("discovery did not succeed after the provider came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, u, err := h.login(t); err != nil || !u.Has(RoleAgent) {
		t.Fatalf("sign-in after the provider came back: %v", err)
	}
}

// TestStartRelyingPartyRefusesAMisconfiguredProvider: a provider that answers, but with a
// document for another issuer, is a configuration error: the start fails at once instead of
// retrying for ever (oidcc-client-test-discovery-issuer-mismatch, at start).
func TestStartRelyingPartyRefusesAMisconfiguredProvider(t *testing.T) {
	h := newHarness(t)
	h.op.set(func(op *fakeOP) { op.discoveryIssuer = "https://impostor.example" })
	if rp, err := StartRelyingParty(context.Background(), t.Context(), testRPConfig(h.op, h.clock)); err == nil || rp != nil {
		t.Fatal("StartRelyingParty accepted a discovery document for another issuer")
	}
}
