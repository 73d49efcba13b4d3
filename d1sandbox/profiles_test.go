package d1sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
)

// tokenFor obtains an access token from the sandbox.
func tokenFor(t *testing.T, srvURL, kid string, key any) string {
	t.Helper()
	spec := goodSpec(kid, nil, time.Now())
	spec.key = key
	form := url.Values{"grant_type": {d1.GrantTypeJWTBearer}, "assertion": {sign(t, spec)}}
	resp, err := http.PostForm(srvURL+"/authz/v1/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || m.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return m.AccessToken
}

// TestProfilesEndpoint checks statuses and bodies of the business endpoint.
func TestProfilesEndpoint(t *testing.T) {
	portfolio := d1test.NewPortfolio(300)
	s, kid, key := newSandbox(t, func(o *d1sandbox.Options) { o.Portfolio = portfolio })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	tok := tokenFor(t, srv.URL, kid, key)
	var notEnrolled string
	for _, c := range portfolio.All() {
		if _, dv := d1sandbox.Derive(5, c); dv.Kind == d1sandbox.KindNotEnrolled {
			notEnrolled = c.ConsumerID
			break
		}
	}
	get := func(path, auth, correlation string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if correlation != "" {
			req.Header.Set("x-correlation-id", correlation)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	path := func(issuer, consumer string) string {
		return "/banking/v1/issuers/" + issuer + "/consumers/" + consumer + "/clickToPayProfiles"
	}
	cases := []struct {
		name, path, auth, correlation string
		status                        int
		body                          string
	}{
		{"no token", path(testIssuer, "cns-000001"), "", "", 401, `{"error":"Unauthorized"}`},
		{"unknown token", path(testIssuer, "cns-000001"), "Bearer nope", "", 401, `{"error":"Unauthorized"}`},
		{"basic auth", path(testIssuer, "cns-000001"), "Basic " + tok, "", 401, `{"error":"Unauthorized"}`},
		{"malformed consumer", path(testIssuer, "bad%20id"), "Bearer " + tok, "", 400, `{"error":"consumerId","errorCode":"FIELD_INVALID_FORMAT"}`},
		{"malformed issuer", path("SHORT", "cns-000001"), "Bearer " + tok, "", 400, `{"error":"issuerId","errorCode":"FIELD_INVALID_FORMAT"}`},
		{"malformed correlation id", path(testIssuer, "cns-000001"), "Bearer " + tok, "bad id!", 400, `{"error":"x-correlation-id","errorCode":"FIELD_INVALID_FORMAT"}`},
		{"other issuer", path("OTHERBANK1", "cns-000001"), "Bearer " + tok, "", 404, `{"error":"issuer not found"}`},
		{"unknown consumer", path(testIssuer, "nobody"), "Bearer " + tok, "ok-1", 404, `{"error":"consumer not found"}`},
		{"not enrolled", path(testIssuer, notEnrolled), "Bearer " + tok, "", 200, `{"clickToPayProfiles":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(tc.path, tc.auth, tc.correlation)
			if status != tc.status || body != tc.body {
				t.Errorf("got %d %s, want %d %s", status, body, tc.status, tc.body)
			}
		})
	}
	t.Run("enrolled consumer decodes to the derivation", func(t *testing.T) {
		c := d1test.Customer(3)
		status, body := get(path(testIssuer, c.ConsumerID), "Bearer "+tok, "")
		want, _ := d1sandbox.Derive(5, c)
		got, err := d1.DecodeProfiles([]byte(body))
		if status != 200 || err != nil || len(got) != len(want) {
			t.Fatalf("%d %v %s", status, err, body)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		resp, err := http.Post(srv.URL+path(testIssuer, "cns-000001"), "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d", resp.StatusCode)
		}
	})
}

// TestProfilesFaultsOverHTTP checks the raw fault answers.
func TestProfilesFaultsOverHTTP(t *testing.T) {
	s, kid, key := newSandbox(t, nil)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	tok := tokenFor(t, srv.URL, kid, key)
	do := func(consumer string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/banking/v1/issuers/"+testIssuer+"/consumers/"+consumer+"/clickToPayProfiles", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	s.SetConsumerFault("cns-000001", d1sandbox.Fault{Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 1})
	resp := do("cns-000001")
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("429: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := do("cns-000001"); resp.StatusCode != 200 {
		t.Errorf("after Times=1: %d", resp.StatusCode)
	}
	s.SetConsumerFault("cns-000002", d1sandbox.Fault{Oversized: true})
	resp = do("cns-000002")
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n <= 1<<20 {
		t.Errorf("oversized body is %d bytes", n)
	}
	s.SetConsumerFault("cns-000003", d1sandbox.Fault{Malformed: true})
	resp = do("cns-000003")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if json.Valid(b) {
		t.Error("malformed fault sent valid JSON")
	}
	s.SetFault(d1sandbox.Fault{Status: 500, Times: 2})
	for i, want := range []int{500, 500, 200} {
		resp := do("cns-000004")
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("global fault request %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	if got := s.ProfileRequestsFor("cns-000004"); got != 3 {
		t.Errorf("ProfileRequestsFor = %d", got)
	}
}

// TestSetAnswer checks that a fixed answer replaces the derived profiles, body byte for byte,
// that faults still come first, and that bad fixtures are refused.
func TestSetAnswer(t *testing.T) {
	portfolio := d1test.NewPortfolio(30)
	s, kid, key := newSandbox(t, func(o *d1sandbox.Options) { o.Portfolio = portfolio })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	tok := tokenFor(t, srv.URL, kid, key)
	get := func(consumerID string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/banking/v1"+d1.ProfilesPath(testIssuer, consumerID), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	known := portfolio.All()[0].ConsumerID
	body := `{"clickToPayProfiles":[{"scheme":"DISCOVER","loyaltyTier":"gold","consumerInfo":{"firstName":"A"},"cards":[]}]}`
	if err := s.SetAnswer(known, d1sandbox.Answer{Status: http.StatusOK, Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	if code, got := get(known); code != http.StatusOK || got != body {
		t.Errorf("fixed answer = %d %s, want 200 %s", code, got, body)
	}
	if err := s.SetAnswer("cns_unknown_1", d1sandbox.Answer{Status: http.StatusNotFound, Body: []byte(`{"error":"consumer not found"}`)}); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("cns_unknown_1"); code != http.StatusNotFound {
		t.Errorf("fixed 404 = %d", code)
	}
	s.SetConsumerFault(known, d1sandbox.Fault{Status: http.StatusServiceUnavailable})
	if code, _ := get(known); code != http.StatusServiceUnavailable {
		t.Errorf("a fault over a fixed answer = %d, want the fault's 503", code)
	}
	s.ClearFaults()
	if err := s.SetAnswer(known, d1sandbox.Answer{}); err != nil {
		t.Fatal(err)
	}
	if code, got := get(known); code != http.StatusOK || got == body {
		t.Errorf("after removing the fixture = %d %s, want the derived profiles", code, got)
	}
	for _, bad := range []struct {
		id string
		a  d1sandbox.Answer
	}{{"cns 1", d1sandbox.Answer{Status: 200}}, {"cns_1", d1sandbox.Answer{Status: 500}}} {
		if err := s.SetAnswer(bad.id, bad.a); err == nil {
			t.Errorf("SetAnswer(%q, %d) accepted", bad.id, bad.a.Status)
		}
	}
}
