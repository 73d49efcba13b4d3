package auth

import (
	"encoding/base64"
	"testing"
)

// TestTokensCarry256RandomBits: every session id, pre-login id, state, nonce and CSRF token is
// 32 bytes from crypto/rand (256 bits, twice what guessing resistance needs), and a thousand
// of them are all different.
func TestTokensCarry256RandomBits(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := newToken()
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(raw) != 32 || !wellFormedToken(tok) {
			t.Fatalf("token %q: %d bytes, %v", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q came twice", tok)
		}
		seen[tok] = true
	}
	for _, bad := range []string{"", "short", newToken() + "x", newToken()[:42] + "!"} {
		if wellFormedToken(bad) {
			t.Errorf("wellFormedToken(%q) = true", bad)
		}
	}
}
