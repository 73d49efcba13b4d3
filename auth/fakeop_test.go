package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// opKey is one signing key of the fake provider, generated at run time.
type opKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newRSAKey(tb testing.TB, kid string) opKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return opKey{kid: kid, alg: jose.RS256, priv: k}
}

func newECKey(tb testing.TB, kid string) opKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return opKey{kid: kid, alg: jose.ES256, priv: k}
}

func newEdKey(tb testing.TB, kid string) opKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return opKey{kid: kid, alg: jose.EdDSA, priv: k}
}

// codeGrant is what the fake provider remembers about an authorization code.
type codeGrant struct {
	nonce     string
	challenge string
}

// fakeOP is a misbehaving OpenID Provider: the test decides what its discovery document,
// key set, tokens and userinfo say.
type fakeOP struct {
	tb    testing.TB
	srv   *httptest.Server
	clock *testClock

	mu              sync.Mutex
	discoveryIssuer string  // issuer in discovery; "" means the server's URL
	discoveryDown   bool    // discovery answers 503, as a provider in an outage
	published       []opKey // keys in the JWKS
	signer          opKey   // key that signs ID tokens
	mutate          func(claims map[string]any)
	rawIDToken      func(claims map[string]any) string // replaces signing entirely
	groupsInIDToken bool
	userinfoSub     string
	jwksFetches     int
	codes           map[string]codeGrant
	clientID        string
	clientSecret    string

	// Refresh tokens: issued at the code exchange unless noRefresh, single use (rotated on
	// every refresh). groups are what the provider says about the user now; refreshOutage
	// answers refreshes with 503, refuseRefresh with invalid_grant.
	groups        []string
	noRefresh     bool
	refreshTokens map[string]bool
	refreshCalls  int
	refreshOutage bool
	refuseRefresh bool
	mutateRefresh func(claims map[string]any)
}

func newFakeOP(tb testing.TB, clock *testClock) *fakeOP {
	tb.Helper()
	k := newRSAKey(tb, "k1")
	op := &fakeOP{
		tb: tb, clock: clock, published: []opKey{k}, signer: k, groupsInIDToken: true,
		codes: map[string]codeGrant{}, clientID: "ctpdesk", clientSecret: "test-only-client-secret-0123456789abcdef",
		groups: []string{"cs-agents", "unrelated"}, refreshTokens: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	op.srv = httptest.NewServer(mux)
	tb.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) issuer() string { return op.srv.URL }

func (op *fakeOP) discovery(w http.ResponseWriter, _ *http.Request) {
	op.mu.Lock()
	iss, down := op.discoveryIssuer, op.discoveryDown
	op.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if iss == "" {
		iss = op.srv.URL
	}
	writeJSON(w, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                op.srv.URL + "/authorize",
		"token_endpoint":                        op.srv.URL + "/token",
		"jwks_uri":                              op.srv.URL + "/jwks",
		"userinfo_endpoint":                     op.srv.URL + "/userinfo",
		"end_session_endpoint":                  op.srv.URL + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "HS256", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (op *fakeOP) jwks(w http.ResponseWriter, _ *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.jwksFetches++
	var set jose.JSONWebKeySet
	for _, k := range op.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	writeJSON(w, set)
}

// authorize plays the provider's authorization endpoint for a URL the RP produced: it checks
// the request and returns a code bound to its nonce and PKCE challenge.
func (op *fakeOP) authorize(authURL string) (code string, q url.Values) {
	op.tb.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		op.tb.Fatal(err)
	}
	q = u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		op.tb.Fatalf("authorization request without PKCE S256: %v", q)
	}
	if q.Get("response_type") != "code" || q.Get("client_id") != op.clientID || q.Get("nonce") == "" || q.Get("state") == "" {
		op.tb.Fatalf("incomplete authorization request: %v", q)
	}
	code = base64.RawURLEncoding.EncodeToString([]byte(q.Get("state")))[:20]
	op.mu.Lock()
	op.codes[code] = codeGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	op.mu.Unlock()
	return code, q
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != op.clientID || secret != op.clientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") == "refresh_token" {
		op.refresh(w, r)
		return
	}
	op.mu.Lock()
	grant, found := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || r.PostForm.Get("grant_type") != "authorization_code" ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != grant.challenge {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	claims := op.userClaims()
	claims["nonce"] = grant.nonce
	op.mu.Lock()
	if op.groupsInIDToken {
		claims["groups"] = op.groups
	}
	mutate, raw, signer := op.mutate, op.rawIDToken, op.signer
	op.mu.Unlock()
	if mutate != nil {
		mutate(claims)
	}
	var idToken string
	if raw != nil {
		idToken = raw(claims)
	} else {
		idToken = signJWT(op.tb, signer, claims)
	}
	answer := map[string]any{
		"access_token": "at-" + r.PostForm.Get("code"), "token_type": "Bearer",
		"expires_in": 300, "id_token": idToken,
	}
	if rt := op.newRefreshToken(); rt != "" {
		answer["refresh_token"] = rt
	}
	writeJSON(w, answer)
}

// userClaims are the ID token claims of the provider's one user, issued now.
func (op *fakeOP) userClaims() map[string]any {
	now := op.clock.Now()
	return map[string]any{
		"iss": op.srv.URL, "sub": "staff-0042", "aud": op.clientID,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"name": "Ada Agent", "email": "ada@bank.example",
	}
}

// newRefreshToken issues a refresh token, or "" when the provider issues none.
func (op *fakeOP) newRefreshToken() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.noRefresh {
		return ""
	}
	rt := "rt-" + newToken()
	op.refreshTokens[rt] = true
	return rt
}

// refresh plays the refresh_token grant: the token is used up, a new one and a new ID token
// with the user's current groups come back.
func (op *fakeOP) refresh(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	op.mu.Lock()
	op.refreshCalls++
	valid := op.refreshTokens[rt]
	if !op.refreshOutage {
		// A provider in an outage never got to use the token up.
		delete(op.refreshTokens, rt)
	}
	outage, refuse, groups, mutate, signer := op.refreshOutage, op.refuseRefresh, op.groups, op.mutateRefresh, op.signer
	op.mu.Unlock()
	switch {
	case outage:
		w.WriteHeader(http.StatusServiceUnavailable)
		writeJSON(w, map[string]string{"error": "temporarily_unavailable"})
		return
	case refuse || !valid:
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	claims := op.userClaims()
	claims["groups"] = groups
	if mutate != nil {
		mutate(claims)
	}
	writeJSON(w, map[string]any{
		"access_token": "at-refreshed", "token_type": "Bearer", "expires_in": 300,
		"id_token": signJWT(op.tb, signer, claims), "refresh_token": op.newRefreshToken(),
	})
}

func (op *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	sub := op.userinfoSub
	op.mu.Unlock()
	if sub == "" {
		sub = "staff-0042"
	}
	writeJSON(w, map[string]any{"sub": sub, "groups": []string{"cs-agents"}, "name": "Ada Agent"})
}

func (op *fakeOP) set(f func(op *fakeOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func signJWT(tb testing.TB, k opKey, claims map[string]any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return signWith(tb, s, claims)
}

func signWith(tb testing.TB, s jose.Signer, claims map[string]any) string {
	tb.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// unsignedJWT builds a token with "alg": "none", which no verifier may accept.
func unsignedJWT(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`)) + "." + enc.EncodeToString(payload) + "."
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
