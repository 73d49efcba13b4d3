package d1_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// TestGetProfilesEveryScenario runs the client against the sandbox over HTTP for every kind
// of consumer the sandbox derives and checks the decoded profiles equal the derivation.
func TestGetProfilesEveryScenario(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := []struct {
		name string
		ok   func(d1sandbox.Derivation) bool
	}{
		{"match two directories", func(d d1sandbox.Derivation) bool {
			return d.Kind == d1sandbox.KindMatch && len(d.Directories) == 2 && d.ExtraDirectory == ""
		}},
		{"match one directory", func(d d1sandbox.Derivation) bool { return d.Kind == d1sandbox.KindMatch && len(d.Directories) == 1 }},
		{"only one of two directories", func(d d1sandbox.Derivation) bool { return d.OmittedDirectory != "" }},
		{"extra directory without cards", func(d d1sandbox.Derivation) bool { return d.ExtraDirectory != "" }},
		{"differs", func(d d1sandbox.Derivation) bool { return d.Kind == d1sandbox.KindDiffers }},
		{"differs in three fields", func(d d1sandbox.Derivation) bool { return d.Kind == d1sandbox.KindDiffers && len(d.Changes) >= 3 }},
		{"risk closed card active", func(d d1sandbox.Derivation) bool { return d.Risk == d1sandbox.RiskClosedCardActive }},
		{"risk unknown card", func(d d1sandbox.Derivation) bool { return d.Risk == d1sandbox.RiskUnknownCard }},
		{"risk contact takeover", func(d d1sandbox.Derivation) bool { return d.Risk == d1sandbox.RiskContactTakeover }},
		{"no card", func(d d1sandbox.Derivation) bool { return d.Kind == d1sandbox.KindNoCard }},
		{"not enrolled", func(d d1sandbox.Derivation) bool { return d.Kind == d1sandbox.KindNotEnrolled }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, want := e.customerWhere(t, tc.ok)
			res, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{RequestID: "req-" + c.ConsumerID})
			if err != nil {
				t.Fatalf("GetProfiles: %v", err)
			}
			if diff := cmp.Diff(want, res.Profiles, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("profiles (-want +got):\n%s", diff)
			}
			if res.Stale || res.Cached {
				t.Errorf("first fetch marked stale=%v cached=%v", res.Stale, res.Cached)
			}
			if res.CorrelationID != "req-"+c.ConsumerID {
				t.Errorf("correlation id = %q", res.CorrelationID)
			}
		})
	}
}

// TestGetProfilesErrors covers the answers that are not profiles.
func TestGetProfilesErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	t.Run("unknown consumer is ErrNotFound with status and correlation id", func(t *testing.T) {
		_, err := e.client.GetProfiles(context.Background(), "nobody-knows-me", d1.FetchOptions{RequestID: "rid-404"})
		var de *d1.Error
		if !errors.Is(err, d1.ErrNotFound) || !errors.As(err, &de) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if de.Status != 404 || de.CorrelationID != "rid-404" || de.Class() != d1.ClassNotFound {
			t.Errorf("status=%d correlation=%q class=%q", de.Status, de.CorrelationID, de.Class())
		}
	})
	for _, id := range []string{"", "has space", "ünïcode", "a/b", "../../etc", string(make([]byte, 65)), "x?y=1"} {
		t.Run("invalid consumer id "+id, func(t *testing.T) {
			before := e.sb.Stats().ProfileRequests
			_, err := e.client.GetProfiles(context.Background(), id, d1.FetchOptions{})
			if !errors.Is(err, d1.ErrInvalidConsumerID) || d1.ClassOf(err) != d1.ClassInvalidRequest {
				t.Fatalf("err = %v, want ErrInvalidConsumerID", err)
			}
			if e.sb.Stats().ProfileRequests != before {
				t.Error("an invalid id reached D1")
			}
		})
	}
	t.Run("caller deadline already passed", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := e.client.GetProfiles(ctx, e.matchCustomer(t).ConsumerID, d1.FetchOptions{})
		if !errors.Is(err, d1.ErrUnavailable) || d1.ClassOf(err) != d1.ClassCanceled {
			t.Fatalf("err = %v (class %s), want canceled", err, d1.ClassOf(err))
		}
	})
}

// TestCorrelationID checks the derivation from request ids.
func TestCorrelationID(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	cases := map[string]string{
		"abc-123_X":             "abc-123_X",
		"req/1:2.3 4":           "req1234",
		"ÄÖÜ-ok":                "-ok",
		string(make([]byte, 3)): "",
	}
	long := ""
	for range 100 {
		long += "a"
	}
	cases[long] = long[:64]
	for in, want := range cases {
		got := d1.CorrelationID(in)
		if !valid.MatchString(got) {
			t.Errorf("CorrelationID(%q) = %q, invalid", in, got)
		}
		if want != "" && got != want {
			t.Errorf("CorrelationID(%q) = %q, want %q", in, got, want)
		}
	}
	if a, b := d1.CorrelationID(""), d1.CorrelationID(""); a == b {
		t.Errorf("empty request ids got the same random correlation id %q", a)
	}
}
