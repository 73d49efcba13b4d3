package d1sandbox_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"ctpdesk/d1sandbox"
)

// TestParseFault checks the flag/env syntax, including hostile input.
func TestParseFault(t *testing.T) {
	good := map[string]d1sandbox.Fault{
		"":                          {},
		"latency=200ms,jitter=50ms": {Latency: 200 * time.Millisecond, Jitter: 50 * time.Millisecond},
		"status=429,retry-after=2s": {Status: 429, RetryAfter: 2 * time.Second},
		" hang , times=3 ":          {Hang: true, Times: 3},
		"malformed":                 {Malformed: true},
		"oversized,full-pan":        {Oversized: true, FullPAN: true},
		"token-down":                {TokenDown: true},
		"absent=mastercard":         {AbsentDirectory: "MASTERCARD"},
		"status=500":                {Status: 500},
		"status=503":                {Status: 503},
	}
	for spec, want := range good {
		got, err := d1sandbox.ParseFault(spec)
		if err != nil {
			t.Errorf("%q: %v", spec, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", spec, diff)
		}
	}
	for _, spec := range []string{
		"status=200", "status=abc", "status", "latency=-1s", "latency=forever", "latency=11m",
		"hang=yes", "times=-1", "times=x", "absent=", "explode", "latency", "=",
	} {
		if _, err := d1sandbox.ParseFault(spec); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
}

// TestParseConsumerFaults checks the per-consumer form.
func TestParseConsumerFaults(t *testing.T) {
	got, err := d1sandbox.ParseConsumerFaults("cns-1=status=503,times=1; cns-2=hang")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]d1sandbox.Fault{"cns-1": {Status: 503, Times: 1}, "cns-2": {Hang: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, spec := range []string{"nofault", "=hang", "bad id=hang", "cns-1=explode"} {
		if _, err := d1sandbox.ParseConsumerFaults(spec); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
}
