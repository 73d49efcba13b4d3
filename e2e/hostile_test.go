package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostileRequestsNeverFail sends signed-in and anonymous requests with hostile paths,
// queries, headers and forms to every kind of route. None may answer 5xx or leak an internal
// error (SQL, a stack, a Go error string) into the body.
func TestHostileRequestsNeverFail(t *testing.T) {
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": "200"})
	agent := newBrowserlikeClient(t)
	if resp := devLogin(t, agent, a.URL, "agent"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	auditor := newBrowserlikeClient(t)
	if resp := devLogin(t, auditor, a.URL, "auditor"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	long := strings.Repeat("A", 10000)
	queries := []string{"", " ", long, "\x00", "\xff\xfe", "'; DROP TABLE customers; --", `"`, "*", "NEAR", "a OR b",
		"%", "_", "\u202egnp.exe", "<script>alert(1)</script>", "😀😀", "+", "++44", "0000", "1234 ' OR 1=1", "@", "a@", "@b",
		"CU00000001\u202e", "((((", "\"unterminated", "a:b", "-", "--", "NOT", "AND AND", "*:*"}
	var paths []string
	for _, q := range queries {
		paths = append(paths, "/customers?q="+url.QueryEscape(q), "/customers?q="+url.QueryEscape(q)+"&after="+url.QueryEscape(q)+"&limit="+url.QueryEscape(q))
	}
	for _, id := range []string{"..", "%2e%2e%2f", "CU00000001%00", url.PathEscape(long), "%ff", url.PathEscape("<b>"), "CU99999999", url.PathEscape("' OR 1=1")} {
		paths = append(paths, "/customers/"+id, "/customers/"+id+"/comparison", "/customers/"+id+"/comparison?show="+id)
	}
	paths = append(paths, "/customers?limit=-1", "/customers?limit=99999999999999999999", "/customers/CU00000001/comparison?show=<x>",
		"/static/../../etc/passwd", "/static/%2e%2e/go.mod", "/auth/callback?state="+long+"&code=x", "/auth/callback?error=access_denied&error_description=%3Cscript%3E",
		"/login?next=https://evil.example/", "/login?next=//evil.example", "/auth/start?next=javascript:alert(1)")
	check := func(client *http.Client, method, path, body string, headers ...string) {
		t.Helper()
		req, err := http.NewRequest(method, a.URL+path, strings.NewReader(body))
		if err != nil {
			return // a URL Go itself will not send cannot reach the server either
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %.80s: status %d", method, path, resp.StatusCode)
		}
		low := strings.ToLower(string(data))
		for _, leak := range []string{"sqlite", "syntax error", "pq:", "sqlstate", "goroutine ", "panic:", "runtime error", ".go:"} {
			if strings.Contains(low, leak) {
				t.Errorf("%s %.80s: body leaks %q", method, path, leak)
			}
		}
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil.example") || strings.HasPrefix(loc, "javascript:") {
			t.Errorf("%s %.80s: open redirect to %q", method, path, loc)
		}
	}
	for _, p := range paths {
		for _, client := range []*http.Client{agent, auditor, {CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}} {
			check(client, http.MethodGet, p, "")
			check(client, http.MethodGet, p, "", "HX-Request", "true")
			check(client, http.MethodGet, p, "", "Accept", "application/json")
		}
	}
	for _, f := range []string{"/audit?from=" + url.QueryEscape(long), "/audit?from=2026-13-45", "/audit?before=-5", "/audit?action=%00",
		"/audit?outcome=maybe", "/audit/export?to=yesterday", "/audit?actor=" + url.QueryEscape(long)} {
		check(auditor, http.MethodGet, f, "")
	}
	// State-changing requests with and without a token, with hostile forms.
	forms := []string{"", "_csrf=forged", "field=phone&source=issuer&reason=other&reference=" + url.QueryEscape(long),
		"field=%00&source=%ff&reason=" + url.QueryEscape(long), "_csrf=" + url.QueryEscape(long)}
	for _, f := range forms {
		for _, p := range []string{"/customers/CU00000001/reveal", "/customers/CU00000001/comparison/refresh", "/logout", "/customers/../reveal"} {
			check(agent, http.MethodPost, p, f)
			check(agent, http.MethodPost, p, f, "Sec-Fetch-Site", "same-origin")
		}
	}
}
