package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// TestSearchEchoesTheQueryEscaped: the search page repeats the query (in the box and in "No
// customer matches …"); a query made of markup comes back as text in both the page and the
// htmx fragment, never as elements or attributes a browser would run.
func TestSearchEchoesTheQueryEscaped(t *testing.T) {
	e := newCustomerServer(t, mustIssuerDB(t, 50))
	for _, payload := range []string{
		`zzq<script>alert(document.cookie)</script>`,
		`zzq"><img src=x onerror=alert(origin)>`,
		`zzq'><svg onload=alert(origin)>`,
		// With digits the query is refused with a message that quotes part of it.
		`zzq <img src=x onerror=alert(1)> 12"><script>alert(2)</script>`,
	} {
		refused := strings.ContainsAny(payload, "0123456789")
		for _, hx := range []string{"", "true"} {
			rec := get(e, "/customers?q="+url.QueryEscape(payload), "HX-Request", hx)
			body := rec.Body.String()
			doc := mustDoc(t, rec)
			for _, raw := range []string{"<script>alert", "<img src=x", "<svg onload", `"><img`, `'><svg`} {
				if strings.Contains(body, raw) {
					t.Errorf("q=%q (htmx %q): the page holds %q unescaped", payload, hx, raw)
				}
			}
			if n := doc.Find("script:contains('alert'), img[onerror], svg[onload], [onerror], [onload]").Length(); n != 0 {
				t.Errorf("q=%q (htmx %q): %d injected elements", payload, hx, n)
			}
			if refused {
				if doc.Find(`[data-testid="search-message"]`).Length() != 1 {
					t.Errorf("q=%q: no refusal message", payload)
				}
			} else if got := doc.Find(`[data-testid="no-results"]`).Text(); !strings.Contains(got, payload) {
				t.Errorf("q=%q (htmx %q): the query is not echoed as text: %q\n%s", payload, hx, got, body)
			}
			if hx == "" {
				if v, _ := doc.Find("[data-search-box]").Attr("value"); v != payload {
					t.Errorf("q=%q: the box holds %q", payload, v)
				}
			}
		}
	}
}
