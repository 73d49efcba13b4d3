package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// The provider's refresh token is the most valuable thing a session row holds: whoever has it
// can ask the provider for fresh tokens for as long as the provider allows. It is therefore
// kept sealed with AES-256-GCM under a key derived from the session's cookie value. The
// database stores only the SHA-256 of that value, so a copy of the sessions table (a backup,
// a replica, an operator's query) yields no usable refresh token; only a request that carries
// the cookie can open it, which is exactly when a re-check runs.

// refreshKeyInfo separates this key from anything else ever derived from a session id.
const refreshKeyInfo = "ctpdesk session refresh token v1"

var errSealed = errors.New("auth: sealed refresh token does not open")

func refreshAEAD(sessionID string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(sessionID), nil, refreshKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("auth: derive refresh key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: refresh key: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealRefresh encrypts token for the session whose cookie value is sessionID. The row's id
// hash is authenticated with it, so a sealed token moved into another row does not open.
func sealRefresh(sessionID, idHash, token string) (string, error) {
	aead, err := refreshAEAD(sessionID)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := aead.Seal(nonce, nonce, []byte(token), []byte(idHash))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// openRefresh reverses sealRefresh.
func openRefresh(sessionID, idHash, sealed string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", errSealed
	}
	aead, err := refreshAEAD(sessionID)
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize() {
		return "", errSealed
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(idHash))
	if err != nil {
		return "", errSealed
	}
	return string(plain), nil
}
