package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// tokenBytes is the entropy of every secret this package mints: session ids, pre-login ids,
// state, nonce, PKCE verifiers and CSRF tokens. 256 bits is beyond any guessing attack.
const tokenBytes = 32

// tokenLen is the length of a token as text: unpadded base64url of tokenBytes.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// newToken returns a fresh random token as unpadded base64url text.
func newToken() string {
	b := make([]byte, tokenBytes)
	// crypto/rand.Read never returns an error on supported platforms; it crashes the program
	// instead, which is what we want if the kernel cannot give us randomness.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormedToken reports whether s looks like a token from newToken, so malformed cookie
// values are refused before they reach the database.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// hashToken is what the database stores instead of a token: someone who reads the sessions
// table cannot turn a row back into a cookie.
func hashToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// equalTokens compares two secrets in constant time.
func equalTokens(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
