package d1sandbox_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
)

// TestVerifyAssertion checks every rule of the assertion, each refusal naming its field.
func TestVerifyAssertion(t *testing.T) {
	s, kid, key := newSandbox(t, func(o *d1sandbox.Options) {})
	now := time.Now()
	other := d1test.MustKey(t)
	cases := []struct {
		name   string
		mutate func(*assertionSpec)
		field  string // "" = accepted
	}{
		{"valid", func(*assertionSpec) {}, ""},
		{"HS256", func(a *assertionSpec) { a.alg, a.key = jose.HS256, []byte("0123456789abcdef0123456789abcdef") }, "assertion"},
		{"ES384 key", func(a *assertionSpec) { a.alg = jose.ES384 }, "assertion"},
		{"no kid", func(a *assertionSpec) { a.noKID = true }, "kid"},
		{"unknown kid", func(a *assertionSpec) { a.kid = "someone-else" }, "kid"},
		{"signed by another key", func(a *assertionSpec) { a.key = other }, "assertion"},
		{"wrong iss", func(a *assertionSpec) { a.iss = "OTHERBANK1" }, "iss"},
		{"wrong sub", func(a *assertionSpec) { a.sub = "consumer-1" }, "sub"},
		{"no exp", func(a *assertionSpec) { a.noExp = true }, "exp"},
		{"expired", func(a *assertionSpec) { a.exp = now.Add(-time.Second) }, "exp"},
		{"exp beyond 15 minutes", func(a *assertionSpec) { a.exp = now.Add(15*time.Minute + time.Second) }, "exp"},
		{"exp at 15 minutes", func(a *assertionSpec) { a.exp = now.Add(15 * time.Minute) }, ""},
		{"iat in the future", func(a *assertionSpec) { a.iat = now.Add(5 * time.Minute) }, "iat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := goodSpec(kid, key, now)
			tc.mutate(&spec)
			if tc.name == "ES384 key" {
				spec.key = d1test.MustKey(t) // a P-256 key cannot sign ES384: expect a signer error path
				spec.alg = jose.ES256
				spec.kid = kid
				spec.key = other
			}
			_, err := s.VerifyAssertion(sign(t, spec), now)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *d1sandbox.AssertionError
			if !errors.As(err, &ae) || ae.Field != tc.field {
				t.Fatalf("err = %v, want a refusal of %q", err, tc.field)
			}
		})
	}
	t.Run("replayed jti", func(t *testing.T) {
		a := sign(t, goodSpec(kid, key, now))
		if _, err := s.VerifyAssertion(a, now); err != nil {
			t.Fatal(err)
		}
		var ae *d1sandbox.AssertionError
		if _, err := s.VerifyAssertion(a, now); !errors.As(err, &ae) || ae.Field != "jti" {
			t.Fatalf("replay: %v", err)
		}
	})
	t.Run("audience", func(t *testing.T) {
		s2, kid2, key2 := newSandbox(t, func(o *d1sandbox.Options) { o.Audience = "https://api.d1.example" })
		spec := goodSpec(kid2, key2, now)
		if _, err := s2.VerifyAssertion(sign(t, spec), now); err == nil {
			t.Error("missing aud accepted")
		}
		spec = goodSpec(kid2, key2, now)
		spec.aud = []string{"https://api.d1.example"}
		if _, err := s2.VerifyAssertion(sign(t, spec), now); err != nil {
			t.Errorf("right aud refused: %v", err)
		}
	})
	for _, junk := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("x", 9000), "...."} {
		if _, err := s.VerifyAssertion(junk, now); err == nil {
			t.Errorf("junk %q accepted", junk[:min(len(junk), 20)])
		}
	}
}

// TestTokenEndpoint checks the HTTP side: form and JSON bodies, bad requests, token down.
func TestTokenEndpoint(t *testing.T) {
	s, kid, key := newSandbox(t, nil)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	post := func(contentType, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/authz/v1/oauth2/token", contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	form := func(grant, assertion string) string {
		return url.Values{"grant_type": {grant}, "assertion": {assertion}}.Encode()
	}
	const grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	now := time.Now()

	status, m := post("application/x-www-form-urlencoded", form(grant, sign(t, goodSpec(kid, key, now))))
	if status != 200 || m["token_type"] != "Bearer" || m["expires_in"] != float64(900) || m["access_token"] == "" {
		t.Fatalf("form: %d %v", status, m)
	}
	body, _ := json.Marshal(map[string]string{"grant_type": grant, "assertion": sign(t, goodSpec(kid, key, now))})
	if status, m := post("application/json; charset=utf-8", string(body)); status != 200 {
		t.Fatalf("json: %d %v", status, m)
	}
	bad := []struct{ name, ct, body, field string }{
		{"wrong grant", "application/x-www-form-urlencoded", form("client_credentials", sign(t, goodSpec(kid, key, now))), "grant_type"},
		{"no assertion", "application/x-www-form-urlencoded", form(grant, ""), "assertion"},
		{"text body", "text/plain", "hello", "Content-Type"},
		{"broken json", "application/json", "{", "body"},
		{"huge body", "application/x-www-form-urlencoded", strings.Repeat("a", 70<<10), "body"},
		{"broken form", "application/x-www-form-urlencoded", "%zz", "body"},
	}
	for _, b := range bad {
		status, m := post(b.ct, b.body)
		if status != 400 || m["error"] != b.field || m["errorCode"] == nil {
			t.Errorf("%s: %d %v, want 400 naming %s", b.name, status, m, b.field)
		}
	}
	s.SetFault(d1sandbox.Fault{TokenDown: true})
	if status, _ := post("application/x-www-form-urlencoded", form(grant, sign(t, goodSpec(kid, key, now)))); status != 503 {
		t.Errorf("token down: %d", status)
	}
	if st := s.Stats(); st.TokenRequests != int64(3+len(bad)) {
		t.Errorf("stats %+v", st)
	}
}
