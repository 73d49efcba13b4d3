package d1sandbox_test

import (
	"testing"
	"time"
)

// FuzzVerifyAssertion checks the token endpoint's assertion parser never panics and never
// accepts anything not signed by the trusted key. CI runs the seed corpus in
// testdata/fuzz/FuzzVerifyAssertion.
func FuzzVerifyAssertion(f *testing.F) {
	s, kid, key := newSandbox(f, nil)
	now := time.Now()
	f.Add(sign(f, goodSpec(kid, key, now)))
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.e30.AAAA")
	f.Add("")
	f.Fuzz(func(t *testing.T, assertion string) {
		claims, err := s.VerifyAssertion(assertion, now)
		if err == nil && (claims.Issuer != testIssuer || claims.Expiry == nil) {
			t.Fatalf("accepted %q with claims %+v", assertion, claims)
		}
	})
}
