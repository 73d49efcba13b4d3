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
