package d1_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"ctpdesk/d1"
	"ctpdesk/internal/d1test"
)

// recorded is one request seen by the fake D1.
type recorded struct {
	method, path, query string
	header              http.Header
	body                string
}

// fakeD1 is a scripted D1 that records every request: the contract tests assert on what the
// client sends, independently of the sandbox.
type fakeD1 struct {
	mu       sync.Mutex
	requests []recorded
	profiles func(n int) (int, string) // status and body of the n-th profiles request (1-based)
	tokens   int
}

func (f *fakeD1) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	n := 0
	for _, q := range f.requests {
		if q.method == http.MethodGet {
			n++
		}
	}
	if r.Method == http.MethodPost {
		f.tokens++
	}
	tokenNo := f.tokens
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost {
		io.WriteString(w, `{"access_token":"tok-`+string(rune('0'+tokenNo))+`","expires_in":900,"scope":"d1-api:consumer:read","token_type":"Bearer"}`)
		return
	}
	status, b := f.profiles(n)
	w.WriteHeader(status)
	io.WriteString(w, b)
}

func (f *fakeD1) all() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// newFakeEnv returns a client pointed at a fake D1 and the key it signs with.
func newFakeEnv(t *testing.T, f *fakeD1, audience string) (*d1.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	key := d1test.MustKey(t)
	cfg := d1.Config{
		AuthzURL: srv.URL + "/authz/v1/", BankingURL: srv.URL + "/banking/v1",
		IssuerID: "NRDBANK_01", SigningKeyFile: d1test.SigningKeyFile(t, t.TempDir(), key),
		KeyID: "bo-key-2025-01", Audience: audience,
	}
	c, err := d1.New(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// exampleBody is a profile in the reconstructed shape of docs/d1-api.md plus unknown fields, a number where
// a string is expected, and an email array.
const exampleBody = `{
  "clickToPayProfiles": [
    {
      "scheme": "VISA",
      "futureField": {"nested": [1, 2, 3]},
      "consumerInfo": {
        "firstName": "Amelia", "middleName": "Rose", "lastName": "Hartmann",
        "email": "amelia.hartmann@example.com",
        "mobilePhoneNumber": { "countryCode": "44", "phoneNumber": "7700900123" },
        "language": "en-GB"
      },
      "cards": [{
        "cardId": "crd_v1sa0042hartmann", "panLastDigits": "4242", "expiryDate": "0828",
        "cardholderName": "AMELIA R HARTMANN", "status": "SOME_NEW_STATUS",
        "billingAddress": {"line1": "10 Downing Lane", "city": "London", "postalCode": "SW1A 2AA", "countryCode": "GBR"}
      }]
    },
    {
      "scheme": "AMEX_DIRECTORY",
      "consumerInfo": {
        "firstName": "Amelia", "lastName": "Hartmann",
        "email": ["a.hartmann@example.org", "second@example.org"],
        "mobilePhoneNumber": [{ "countryCode": 44, "phoneNumber": 7700900123 }],
        "language": "en_GB"
      },
      "cards": []
    }
  ]
}`

// TestContract asserts method, path, headers and body of both calls and the decoding of the
// documented example.
func TestContract(t *testing.T) {
	f := &fakeD1{profiles: func(int) (int, string) { return 200, exampleBody }}
	c, _ := newFakeEnv(t, f, "https://api.d1-stg.thalescloud.io")
	before := time.Now()
	res, err := c.GetProfiles(context.Background(), "cns_8f2k19qa77", d1.FetchOptions{RequestID: "bo-recon-0002"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want token + profiles", len(reqs))
	}
	tok, get := reqs[0], reqs[1]

	// Token request.
	if tok.method != http.MethodPost || tok.path != "/authz/v1/oauth2/token" || tok.query != "" {
		t.Errorf("token request %s %s?%s", tok.method, tok.path, tok.query)
	}
	if ct := tok.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("token Content-Type %q", ct)
	}
	if tok.header.Get("x-correlation-id") != "bo-recon-0002" || tok.header.Get("Authorization") != "" {
		t.Errorf("token headers %v", tok.header)
	}
	form, err := url.ParseQuery(tok.body)
	if err != nil || len(form) != 2 || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Fatalf("token form %q", tok.body)
	}
	jws, err := jwt.ParseSigned(form.Get("assertion"), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("assertion: %v", err)
	}
	h := jws.Headers[0]
	if h.Algorithm != "ES256" || h.KeyID != "bo-key-2025-01" || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("assertion header %+v", h)
	}
	var claims jwt.Claims
	if err := jws.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Issuer != "NRDBANK_01" || claims.Subject != "NRDBANK_01" {
		t.Errorf("iss/sub = %q/%q", claims.Issuer, claims.Subject)
	}
	if len(claims.Audience) != 1 || claims.Audience[0] != "https://api.d1-stg.thalescloud.io" {
		t.Errorf("aud = %v", claims.Audience)
	}
	iat, exp := claims.IssuedAt.Time(), claims.Expiry.Time()
	if iat.Before(before.Add(-time.Second)) || exp.Sub(iat) > 15*time.Minute || !exp.After(iat) {
		t.Errorf("iat %v exp %v", iat, exp)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(claims.ID) {
		t.Errorf("jti %q is not a random UUID", claims.ID)
	}

	// Profiles request.
	if get.method != http.MethodGet || get.path != "/banking/v1/issuers/NRDBANK_01/consumers/cns_8f2k19qa77/clickToPayProfiles" || get.query != "" {
		t.Errorf("profiles request %s %s?%s", get.method, get.path, get.query)
	}
	if get.header.Get("Authorization") != "Bearer tok-1" || get.header.Get("Accept") != "application/json" ||
		get.header.Get("x-correlation-id") != "bo-recon-0002" || get.body != "" {
		t.Errorf("profiles headers %v body %q", get.header, get.body)
	}

	want := []d1.Profile{
		{
			Directory: "VISA",
			Consumer: d1.Consumer{FirstName: "Amelia", MiddleName: "Rose", LastName: "Hartmann",
				Emails: []string{"amelia.hartmann@example.com"}, Phones: []d1.Phone{{CountryCode: "44", Number: "7700900123"}}, Language: "en-GB"},
			Cards: []d1.Card{{ID: "crd_v1sa0042hartmann", Last4: "4242", Expiry: "0828", CardholderName: "AMELIA R HARTMANN", Status: "SOME_NEW_STATUS",
				BillingAddress: d1.Address{Line1: "10 Downing Lane", City: "London", PostalCode: "SW1A 2AA", Country: "GBR"}}},
		},
		{
			Directory: "AMEX_DIRECTORY",
			Consumer: d1.Consumer{FirstName: "Amelia", LastName: "Hartmann",
				Emails: []string{"a.hartmann@example.org", "second@example.org"}, Phones: []d1.Phone{{CountryCode: "44", Number: "7700900123"}}, Language: "en_GB"},
			Cards: []d1.Card{},
		},
	}
	if diff := cmp.Diff(want, res.Profiles); diff != "" {
		t.Errorf("decoded profiles (-want +got):\n%s", diff)
	}
}

// TestUnauthorizedRefreshesOnce checks a 401 refreshes the token once and retries once, and a
// second 401 is ErrUnauthorized.
func TestUnauthorizedRefreshesOnce(t *testing.T) {
	f := &fakeD1{profiles: func(n int) (int, string) {
		if n == 1 {
			return 401, `{"error":"Unauthorized"}`
		}
		return 200, `{"clickToPayProfiles":[]}`
	}}
	c, _ := newFakeEnv(t, f, "")
	res, err := c.GetProfiles(context.Background(), "cns-1", d1.FetchOptions{})
	if err != nil || len(res.Profiles) != 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
	reqs := f.all()
	if len(reqs) != 4 || reqs[3].header.Get("Authorization") != "Bearer tok-2" {
		t.Fatalf("want token, get, token, get with the new token; got %d requests", len(reqs))
	}

	f2 := &fakeD1{profiles: func(int) (int, string) { return 401, `{"error":"Unauthorized"}` }}
	c2, _ := newFakeEnv(t, f2, "")
	_, err = c2.GetProfiles(context.Background(), "cns-1", d1.FetchOptions{})
	var de *d1.Error
	if !errors.Is(err, d1.ErrUnauthorized) || !errors.As(err, &de) || de.Status != 401 || de.Attempts != 2 {
		t.Fatalf("err = %v", err)
	}
	if n := len(f2.all()); n != 4 {
		t.Errorf("%d requests, want 4 (one refresh, one retry)", n)
	}
}

// TestStatusMapping checks every status class D1 may answer.
func TestStatusMapping(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   error
		class  string
		code   string
	}{
		{400, `{"errorCode":"FIELD_INVALID_FORMAT","error":"consumerId"}`, d1.ErrBadResponse, d1.ClassBadRequest, "FIELD_INVALID_FORMAT"},
		{403, `{"errorCode":"FORBIDDEN","error":"no"}`, d1.ErrUnauthorized, d1.ClassForbidden, "FORBIDDEN"},
		{404, `{"error":"consumer not found"}`, d1.ErrNotFound, d1.ClassNotFound, ""},
		{409, `{}`, d1.ErrBadResponse, d1.ClassBadResponse, ""},
		{302, ``, d1.ErrBadResponse, d1.ClassBadResponse, ""},
		{200, `not json`, d1.ErrBadResponse, d1.ClassBadResponse, ""},
		{200, `{"unexpected":true}`, d1.ErrBadResponse, d1.ClassBadResponse, ""},
		{200, `{"clickToPayProfiles":"nope"}`, d1.ErrBadResponse, d1.ClassBadResponse, ""},
		{502, `<html>bad gateway</html>`, d1.ErrUnavailable, d1.ClassUnavailable, ""},
		{400, `{"errorCode":"<script>alert(1)</script>"}`, d1.ErrBadResponse, d1.ClassBadRequest, ""},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status)+" "+tc.body, func(t *testing.T) {
			f := &fakeD1{profiles: func(int) (int, string) { return tc.status, tc.body }}
			c, _ := newFakeEnv(t, f, "")
			_, err := c.GetProfiles(context.Background(), "cns-1", d1.FetchOptions{RequestID: "r1"})
			var de *d1.Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &de) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if de.Class() != tc.class || de.Status != tc.status || de.Code != tc.code || de.CorrelationID != "r1" {
				t.Errorf("class %q status %d code %q correlation %q", de.Class(), de.Status, de.Code, de.CorrelationID)
			}
		})
	}
}
