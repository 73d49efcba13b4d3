package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/internal/d1test"
	"ctpdesk/static"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
)

// countingSignIn counts the sign-ins it starts (each is a pre-login row in production) and
// refuses every callback as forged unless finish is set.
type countingSignIn struct {
	fakeSignIn
	mu     sync.Mutex
	starts int
}

func (s *countingSignIn) BeginLogin(w http.ResponseWriter, r *http.Request, next string) (string, error) {
	s.mu.Lock()
	s.starts++
	s.mu.Unlock()
	return s.fakeSignIn.BeginLogin(w, r, next)
}

// newSignInServer is the handler with the production client-address rule (no trusted proxy:
// the TCP peer is the client) and a clock the test moves.
func newSignInServer(t *testing.T, s SignIn, a *fakeAuditor, rate int) (*echo.Echo, *Handler, *d1test.Clock) {
	t.Helper()
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	clock := d1test.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	h := mustNew(t, Deps{Assets: assets, Version: "test", SignIn: s, Auditor: a, Now: clock.Now, SignInRate: rate})
	e := echo.New()
	e.IPExtractor = ClientIPExtractor(nil)
	h.register(e, nil)
	return e, h, clock
}

// from sends a GET to target as the client at addr, with optional header pairs.
func from(e *echo.Echo, addr, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = addr
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// TestSignInUnavailablePage: while the provider has not been reached, the sign-in page, the
// start of a sign-in and a callback all answer 503 with a page that says so, and a Retry-After.
func TestSignInUnavailablePage(t *testing.T) {
	s := &countingSignIn{fakeSignIn: fakeSignIn{down: true, finish: func(func(auth.User) error) (auth.User, string, error) {
		return auth.User{}, "", fmt.Errorf("auth: exchange: %w", auth.ErrSignInUnavailable)
	}}}
	a := &fakeAuditor{}
	e, _, _ := newSignInServer(t, s, a, 0)
	for _, target := range []string{"/login", "/auth/start", "/auth/callback?code=x&state=y"} {
		w := from(e, "192.0.2.10:4000", target)
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(w.Body.String()))
		if w.Code != http.StatusServiceUnavailable || doc.Find(`[data-testid="sign-in-unavailable"]`).Length() != 1 {
			t.Errorf("%s: %d, want 503 with the sign-in unavailable page:\n%s", target, w.Code, w.Body)
		}
		if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra <= 0 {
			t.Errorf("%s: Retry-After %q", target, w.Header().Get("Retry-After"))
		}
		if doc.Find(`[data-testid="sign-in"]`).Length() != 0 {
			t.Errorf("%s: the page still offers a sign-in button", target)
		}
	}
	w := from(e, "192.0.2.10:4000", "/auth/start", "Accept", "application/json")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"Sign-in unavailable"`) {
		t.Errorf("JSON twin: %d %s", w.Code, w.Body)
	}
	if len(a.events) != 0 {
		t.Errorf("an unavailable provider is not a refused sign-in; audit events = %+v", a.events)
	}
}

// TestSignInFloodFromOneAddressIsBounded: a hostile client hammering /auth/start gets one
// minute's allowance, then 429 with Retry-After and nothing written; another client is not
// affected; faking X-Forwarded-For without a trusted proxy buys nothing; a whole IPv6 /64
// counts as one client; and the allowance comes back with time.
func TestSignInFloodFromOneAddressIsBounded(t *testing.T) {
	s := &countingSignIn{}
	e, _, clock := newSignInServer(t, s, &fakeAuditor{}, 0)
	allowed, refused := 0, 0
	for i := range 1000 {
		w := from(e, "198.51.100.7:5000", "/auth/start", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i%250))
		switch w.Code {
		case http.StatusFound:
			allowed++
		case http.StatusTooManyRequests:
			refused++
			if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
				t.Fatalf("429 with Retry-After %q", w.Header().Get("Retry-After"))
			}
		default:
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	if allowed != DefaultSignInRate || refused != 1000-DefaultSignInRate || s.starts != DefaultSignInRate {
		t.Errorf("1000 requests: %d allowed, %d refused, %d sign-ins started; want %d started", allowed, refused, s.starts, DefaultSignInRate)
	}
	if w := from(e, "198.51.100.8:5000", "/auth/start"); w.Code != http.StatusFound {
		t.Errorf("another client: %d", w.Code)
	}
	for i := range DefaultSignInRate + 5 {
		from(e, fmt.Sprintf("[2001:db8:1:2::%x]:5000", i+1), "/auth/start")
	}
	if w := from(e, "[2001:db8:1:2:ffff::1]:5000", "/auth/start"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a fresh address in a /64 that used its allowance: %d, want 429", w.Code)
	}
	if w := from(e, "[2001:db8:1:3::1]:5000", "/auth/start"); w.Code != http.StatusFound {
		t.Errorf("the next /64: %d", w.Code)
	}
	clock.Advance(time.Minute)
	if w := from(e, "198.51.100.7:5000", "/auth/start"); w.Code != http.StatusFound {
		t.Errorf("a minute later: %d, want the allowance back", w.Code)
	}
}

// TestForgedCallbackFloodIsCoalesced: a flood of forged callbacks from one address writes the
// first refusal at once and counts the rest into one event per window that says how many and
// why; the flood is also cut off by the rate limit; a refusal that names a verified person is
// always written on its own.
func TestForgedCallbackFloodIsCoalesced(t *testing.T) {
	reasons := []string{auth.ReasonStateMismatch, auth.ReasonNoPreLogin, auth.ReasonStateMismatch}
	var n int
	var mu sync.Mutex
	s := &fakeSignIn{finish: func(func(auth.User) error) (auth.User, string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return auth.User{}, "", &auth.LoginError{Reason: reasons[n%len(reasons)], Err: errors.New("forged")}
	}}
	a := &fakeAuditor{}
	e, h, clock := newSignInServer(t, s, a, 6000)
	for range 600 {
		if w := from(e, "198.51.100.9:6000", "/auth/callback?code=x&state=forged"); w.Code != http.StatusUnauthorized {
			t.Fatalf("forged callback: %d", w.Code)
		}
	}
	if len(a.events) != 1 || a.events[0].Details["reason"] == "coalesced" {
		t.Fatalf("during the window: %d events, want the first refusal only: %+v", len(a.events), a.events)
	}
	clock.Advance(failureWindow)
	h.signInFailures.Flush(t.Context(), false)
	if len(a.events) != 2 {
		t.Fatalf("after the window: %d events, want 2", len(a.events))
	}
	got := a.events[1]
	want := map[string]string{"reason": "coalesced", "count": "599", "reasons": "prelogin_missing:199,state_mismatch:400", "window_seconds": "60"}
	if fmt.Sprint(got.Details) != fmt.Sprint(want) || got.Action != audit.ActionLoginFailed || got.Outcome != audit.Failure || got.ClientIP != "198.51.100.9" {
		t.Errorf("coalesced event = %+v, want details %v from 198.51.100.9", got, want)
	}
	// A person the provider vouched for is never folded into a count.
	nobody := auth.User{Issuer: "https://idp.test", Subject: "staff-9", Name: "Noah Nobody"}
	s.finish = func(func(auth.User) error) (auth.User, string, error) {
		return auth.User{}, "", &auth.LoginError{Reason: auth.ReasonNoRole, User: &nobody, Err: errors.New("no group")}
	}
	for range 3 {
		from(e, "198.51.100.9:6000", "/auth/callback?code=x&state=y")
	}
	if len(a.events) != 5 || a.events[4].Actor.Subject != "staff-9" {
		t.Errorf("no-role refusals: %d events, want each of the 3 written", len(a.events))
	}

	// At the default rate the same flood stops reaching the handler at all.
	a2 := &fakeAuditor{}
	e2, h2, _ := newSignInServer(t, &fakeSignIn{finish: s.finish}, a2, 0)
	limited := 0
	for range 1000 {
		if from(e2, "198.51.100.10:6000", "/auth/callback").Code == http.StatusTooManyRequests {
			limited++
		}
	}
	h2.FlushSignInFailures(t.Context())
	if limited != 1000-DefaultSignInRate || len(a2.events) > DefaultSignInRate {
		t.Errorf("default rate: %d of 1000 limited, %d events", limited, len(a2.events))
	}
}

// TestSignInFailureWindowsAreBounded: failures from more addresses than the limiter keeps
// windows for are counted together, not dropped and not kept without bound.
func TestSignInFailureWindowsAreBounded(t *testing.T) {
	clock := d1test.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	a := &fakeAuditor{}
	f := newSignInFailures(clock.Now, a.Record, nil)
	written := 0
	for i := range failureClients + 500 {
		e := audit.Event{Action: audit.ActionLoginFailed, Outcome: audit.Failure,
			ClientIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Details: map[string]string{"reason": auth.ReasonStateMismatch}}
		if f.note(t.Context(), e) {
			written++
		}
	}
	if written != failureClients || len(f.open) != failureClients+1 {
		t.Fatalf("%d written at once, %d windows; want %d and one overflow window", written, len(f.open), failureClients)
	}
	f.Flush(t.Context(), true)
	if len(a.events) != 1 || a.events[0].Details["count"] != "500" || a.events[0].Details["clients"] != "overflow" || a.events[0].ClientIP != "" {
		t.Errorf("overflow event = %+v", a.events)
	}
	if len(f.open) != 0 {
		t.Errorf("%d windows left after the final flush", len(f.open))
	}
}
