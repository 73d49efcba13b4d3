package d1sandbox_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
)

const testIssuer = "SANDBOX_01"

// newSandbox returns a sandbox with a generated key, the key and its kid.
func newSandbox(t testing.TB, mutate func(*d1sandbox.Options)) (*d1sandbox.Server, string, *ecdsa.PrivateKey) {
	t.Helper()
	opts := d1sandbox.Options{IssuerID: testIssuer, Portfolio: d1test.NewPortfolio(100), Seed: 5}
	if mutate != nil {
		mutate(&opts)
	}
	s, err := d1sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	kid, key, _ := s.GeneratedKey()
	return s, kid, key
}

// assertionSpec describes an assertion to sign.
type assertionSpec struct {
	alg      jose.SignatureAlgorithm
	key      any
	kid      string
	noKID    bool
	iss, sub string
	aud      []string
	iat, exp time.Time
	noExp    bool
	jti      string
}

// sign builds a compact JWS from spec.
func sign(t testing.TB, s assertionSpec) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if !s.noKID {
		opts = opts.WithHeader("kid", s.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.Claims{Issuer: s.iss, Subject: s.sub, Audience: s.aud, IssuedAt: jwt.NewNumericDate(s.iat), ID: s.jti}
	if !s.noExp {
		claims.Expiry = jwt.NewNumericDate(s.exp)
	}
	out, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// goodSpec is a valid assertion for the sandbox's generated key.
func goodSpec(kid string, key *ecdsa.PrivateKey, now time.Time) assertionSpec {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return assertionSpec{alg: jose.ES256, key: key, kid: kid, iss: testIssuer, sub: testIssuer,
		iat: now, exp: now.Add(10 * time.Minute), jti: hex.EncodeToString(b[:])}
}
