package e2e_test

import (
	"regexp"
	"testing"
)

// regexpFind returns the first submatch of pattern in s or fails the test.
func regexpFind(tb testing.TB, s, pattern string) string {
	tb.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		tb.Fatalf("no match for %s in:\n%s", pattern, s)
	}
	return m[1]
}

// envFrom is a getenv over m.
func envFrom(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// underLoad are the settings the end-to-end tests run the app with: they check what the app
// does (every answer right, every event recorded), not how fast a busy two-core machine under
// the race detector commits, so a request may wait longer for the database than the 1 s the
// app allows in production before it answers 503. The tests of that bound set it back.
var underLoad = map[string]string{
	"CTPDESK_AUDIT_RECORD_TIMEOUT": "30s",
	"CTPDESK_SESSION_DB_TIMEOUT":   "30s",
}
