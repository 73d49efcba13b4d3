package d1_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// TestFaults runs the client against every fault the sandbox can inject.
func TestFaults(t *testing.T) {
	type want struct {
		kind     error
		class    string
		status   int
		attempts int // sandbox profile requests for the consumer
	}
	cases := []struct {
		name  string
		fault d1sandbox.Fault
		cfg   func(*d1.Config)
		want  want
	}{
		{"500 retried twice then unavailable", d1sandbox.Fault{Status: 500}, nil,
			want{d1.ErrUnavailable, d1.ClassUnavailable, 500, 3}},
		{"503 once then success", d1sandbox.Fault{Status: 503, Times: 1}, nil,
			want{nil, d1.ClassOK, 0, 2}},
		{"429 with short Retry-After then success", d1sandbox.Fault{Status: 429, RetryAfter: time.Second, Times: 1}, nil,
			want{nil, d1.ClassOK, 0, 2}},
		{"429 with Retry-After beyond the cap is not retried", d1sandbox.Fault{Status: 429, RetryAfter: 30 * time.Second}, nil,
			want{d1.ErrUnavailable, d1.ClassRateLimited, 429, 1}},
		{"hang until the deadline", d1sandbox.Fault{Hang: true}, func(c *d1.Config) { c.Timeout = 300 * time.Millisecond },
			want{d1.ErrUnavailable, d1.ClassTimeout, 0, 1}},
		{"latency beyond the deadline", d1sandbox.Fault{Latency: 2 * time.Second}, func(c *d1.Config) { c.Timeout = 200 * time.Millisecond },
			want{d1.ErrUnavailable, d1.ClassTimeout, 0, 1}},
		{"latency within the deadline", d1sandbox.Fault{Latency: 50 * time.Millisecond, Jitter: 20 * time.Millisecond}, nil,
			want{nil, d1.ClassOK, 0, 1}},
		{"malformed JSON", d1sandbox.Fault{Malformed: true}, nil,
			want{d1.ErrBadResponse, d1.ClassBadResponse, 200, 1}},
		{"oversized body", d1sandbox.Fault{Oversized: true}, nil,
			want{d1.ErrBadResponse, d1.ClassBadResponse, 200, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{cfg: tc.cfg})
			c := e.matchCustomer(t)
			e.sb.SetConsumerFault(c.ConsumerID, tc.fault)
			res, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{RequestID: "fault-test"})
			if got := d1.ClassOf(err); got != tc.want.class {
				t.Fatalf("class = %q (err %v), want %q", got, err, tc.want.class)
			}
			if tc.want.kind == nil {
				if len(res.Profiles) == 0 {
					t.Error("no profiles after recovery")
				}
			} else {
				var de *d1.Error
				if !errors.Is(err, tc.want.kind) || !errors.As(err, &de) {
					t.Fatalf("err = %v, want %v", err, tc.want.kind)
				}
				if de.Status != tc.want.status || de.CorrelationID != "fault-test" {
					t.Errorf("status = %d correlation = %q", de.Status, de.CorrelationID)
				}
			}
			if got := e.sb.ProfileRequestsFor(c.ConsumerID); got != tc.want.attempts {
				t.Errorf("sandbox saw %d requests, want %d", got, tc.want.attempts)
			}
		})
	}
}

// TestTokenEndpointDown checks a failing token endpoint surfaces as ErrUnavailable from the
// token operation without any profile request.
func TestTokenEndpointDown(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sb.SetFault(d1sandbox.Fault{TokenDown: true})
	c := e.matchCustomer(t)
	_, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
	var de *d1.Error
	if !errors.Is(err, d1.ErrUnavailable) || !errors.As(err, &de) || de.Op != "token" || de.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %#v", err)
	}
	if n := e.sb.Stats().ProfileRequests; n != 0 {
		t.Errorf("%d profile requests without a token", n)
	}
	e.sb.ClearFaults()
	if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestTokenRejected checks a key D1 does not know ends as ErrUnauthorized.
func TestTokenRejected(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *d1.Config) { c.KeyID = "not-the-sandbox-key" }})
	_, err := e.client.GetProfiles(context.Background(), e.matchCustomer(t).ConsumerID, d1.FetchOptions{})
	var de *d1.Error
	if !errors.Is(err, d1.ErrUnauthorized) || !errors.As(err, &de) || de.Status != 400 || de.Code != "FIELD_INVALID_VALUE" {
		t.Fatalf("err = %v", err)
	}
}

// TestAbsentDirectory checks the "one directory absent" fault drops exactly that profile.
func TestAbsentDirectory(t *testing.T) {
	e := newEnv(t, envOptions{})
	c, want := e.customerWhere(t, func(d d1sandbox.Derivation) bool {
		return d.Kind == d1sandbox.KindMatch && len(d.Directories) == 2
	})
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{AbsentDirectory: d1.DirectoryMastercard})
	res, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Profiles) != 1 || res.Profiles[0].Directory != d1.DirectoryVisa || len(want) != 2 {
		t.Fatalf("got %d profiles (%+v)", len(res.Profiles), res.Profiles)
	}
}

// TestAttemptDeadlineInsideBudget checks that one slow attempt does not use up the call: it is
// given up at AttemptTimeout and retried while the call's budget leaves time, and a hang gives
// up at the budget as a timeout, after several attempts.
func TestAttemptDeadlineInsideBudget(t *testing.T) {
	budget := func(c *d1.Config) { c.Timeout, c.AttemptTimeout = 3*time.Second, 300*time.Millisecond }
	t.Run("a slow first attempt is retried", func(t *testing.T) {
		e := newEnv(t, envOptions{cfg: budget})
		c := e.matchCustomer(t)
		e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Latency: 2 * time.Second, Times: 1})
		res, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
		if err != nil || len(res.Profiles) == 0 {
			t.Fatalf("GetProfiles = %d profiles, %v; want the second attempt's answer", len(res.Profiles), err)
		}
		if got := e.sb.ProfileRequestsFor(c.ConsumerID); got != 2 {
			t.Errorf("sandbox saw %d requests, want 2", got)
		}
	})
	t.Run("a hang gives up at the budget", func(t *testing.T) {
		e := newEnv(t, envOptions{cfg: budget})
		c := e.matchCustomer(t)
		e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Hang: true})
		_, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{RequestID: "hang-test"})
		var de *d1.Error
		if d1.ClassOf(err) != d1.ClassTimeout || !errors.As(err, &de) || de.CorrelationID != "hang-test" {
			t.Fatalf("err = %v, want a timeout with the correlation id", err)
		}
		if got := e.sb.ProfileRequestsFor(c.ConsumerID); got != 3 || de.Attempts != 3 {
			t.Errorf("sandbox saw %d requests (error says %d attempts), want 3: every attempt timed out and was retried", got, de.Attempts)
		}
	})
	t.Run("with the defaults a slow but real answer is shown", func(t *testing.T) {
		// D1 fans out to the schemes: an answer after more than 3 s happens and must be shown.
		e := newEnv(t, envOptions{cfg: func(c *d1.Config) { c.Timeout, c.AttemptTimeout = 0, 0 }})
		c := e.matchCustomer(t)
		e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Latency: 3500 * time.Millisecond})
		if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); err != nil {
			t.Fatalf("a 3.5 s answer with the default deadlines: %v", err)
		}
	})
}
