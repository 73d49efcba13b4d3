package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"ctpdesk/internal/browsertest"
	"ctpdesk/issuerdb"

	"github.com/chromedp/chromedp"
)

// TestLogsHoldNoPersonalData runs the staff journeys (an agent in Chromium: search by name,
// open the customer, let the comparison load, reveal the phone; a fraud analyst over HTTP:
// every search kind, pages, fragments and JSON twins) at debug level, then searches every line
// the process wrote for the emails, phone numbers and names of the customers it viewed.
func TestLogsHoldNoPersonalData(t *testing.T) {
	const seed = 7
	a := startApp(t, "dev", map[string]string{"CTPDESK_DEV_CUSTOMERS": "500", "CTPDESK_DEV_SEED": "7", "CTPDESK_LOG_LEVEL": "debug"})
	gen := issuerdb.NewGenerator(seed)
	viewed := []issuerdb.Customer{gen.Customer(3), gen.Customer(17), gen.Customer(42), gen.Customer(99), gen.Customer(250)}

	b := browsertest.New(t, 120*time.Second)
	signInChromium(t, b, a.URL, "agent")
	for _, c := range viewed[:2] {
		q := url.QueryEscape(strings.ToLower(issuerdb.Fold(c.FirstName + " " + c.LastName)))
		b.Do(chromedp.Navigate(a.URL + "/customers?q=" + q))
		row := `[data-customer-id="` + c.ID + `"]`
		b.Do(chromedp.WaitVisible(chromedp.CSS(row)))
		b.Do(chromedp.Click(chromedp.CSS(row + ` a`)))
		b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="comparison-body"]`)))
		control := `[data-testid="reveal-field"][data-field="phone"][data-source="issuer"]`
		b.Do(chromedp.Click(chromedp.CSS(control + ` [data-testid="reveal-toggle"]`)))
		b.Do(
			chromedp.SetValue(chromedp.CSS(control+` [data-testid="reveal-reason"]`), "customer_verified"),
			chromedp.Click(chromedp.CSS(control+` [data-testid="reveal-submit"]`)),
		)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="revealed"][data-field="phone"][data-source="issuer"]`)))
	}

	client := newBrowserlikeClient(t)
	if resp := devLogin(t, client, a.URL, "fraud"); resp.StatusCode != http.StatusOK {
		t.Fatalf("fraud sign-in: %d", resp.StatusCode)
	}
	get := func(path string, headers ...string) {
		req, _ := http.NewRequest(http.MethodGet, a.URL+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	for _, c := range viewed {
		for _, q := range []string{c.Email, c.Phone, c.Cards[0].Last4 + " " + c.LastName, c.FirstName + " " + c.LastName, c.ConsumerID, c.ID} {
			get("/customers?q=" + url.QueryEscape(q))
			get("/customers?q="+url.QueryEscape(q), "HX-Request", "true")
			get("/customers?q="+url.QueryEscape(q), "Accept", "application/json")
		}
		get("/customers/" + c.ID)
		get("/customers/"+c.ID, "Accept", "application/json")
		get("/customers/"+c.ID+"/comparison", "HX-Request", "true")
		get("/customers/"+c.ID+"/comparison", "Accept", "application/json")
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := a.Stdout.String() + a.Stderr.String()
	if n := strings.Count(logs, `"msg":"http request"`); n < 100 {
		t.Fatalf("only %d access log lines: the journeys did not run", n)
	}
	words := logWords(logs)
	for _, c := range viewed {
		needles := []string{c.Email, c.Phone, strings.TrimPrefix(c.Phone, "+"), c.FirstName + " " + c.LastName,
			c.Address.Line1, c.Address.PostalCode}
		for _, n := range needles {
			if i := indexStandalone(logs, n); n != "" && i >= 0 {
				t.Errorf("customer %s: %q appears in the log: …%s…", c.ID, n, logs[max(0, i-120):min(len(logs), i+40)])
			}
		}
		// A name or a city logged on its own (slog.String("first", …), slog.String("city", …))
		// holds no full name or address line, so each is looked for as a word of its own.
		for _, field := range personalWords(c) {
			if words[field] {
				i := strings.Index(strings.ToLower(logs), field)
				t.Errorf("customer %s: the word %q of their name or city appears in the log: …%s…", c.ID, field, logs[max(0, i-120):min(len(logs), i+40)])
			}
		}
	}
}

// indexStandalone is the index of the first occurrence of needle in s that is not part of a
// longer run of letters, digits or underscores, or -1. A postcode such as "59226" inside a nanosecond
// timestamp or a generated id is not the customer's postcode; beside a space, a quote or a
// comma it is.
func indexStandalone(s, needle string) int {
	if needle == "" {
		return -1
	}
	isWord := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	first, _ := utf8.DecodeRuneInString(needle)
	last, _ := utf8.DecodeLastRuneInString(needle)
	for from := 0; from < len(s); {
		i := strings.Index(s[from:], needle)
		if i < 0 {
			return -1
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(needle):])
		if !(isWord(first) && i > 0 && isWord(before)) && !(isWord(last) && i+len(needle) < len(s) && isWord(after)) {
			return i
		}
		from = i + 1
	}
	return -1
}

// personalWords are the words of a customer's names and city, lower-cased, that a log line
// must never hold: each name part and each city word of four letters or more (shorter city
// words such as "le" or "san" are too common to tell anything).
func personalWords(c issuerdb.Customer) []string {
	var out []string
	for _, name := range []string{c.FirstName, c.MiddleName, c.LastName} {
		out = append(out, splitWords(name)...)
	}
	for _, w := range splitWords(c.Address.City) {
		if len([]rune(w)) >= 4 {
			out = append(out, w)
		}
	}
	return out
}

// logWords is the set of lower-cased words in the log text.
func logWords(logs string) map[string]bool {
	set := map[string]bool{}
	for _, w := range splitWords(logs) {
		set[w] = true
	}
	return set
}

// splitWords cuts s into runs of letters, lower-cased.
func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
}

func TestIndexStandalone(t *testing.T) {
	for _, tc := range []struct {
		s, needle string
		want      int
	}{
		{`"time":"2026-12-02T03:14:31.385922601Z"`, "59226", -1},
		{`client_id":"vm_2026_12_02T03_14_31_385408"`, "385408", -1},
		{`"postcode":"59226"`, "59226", 12},
		{`59226`, "59226", 0},
		{`x 159226 and 59226,`, "59226", 13},
		{`"phone":"+33612345678"`, "+33612345678", 9},
		{`"q":"kim.lee@bank.example"`, "kim.lee@bank.example", 5},
		{`"Élodie Ñúñez"`, "Élodie Ñúñez", 1},
		{`"XÉlodie Ñúñez"`, "Élodie Ñúñez", -1},
		{``, "59226", -1},
		{`59226`, "", -1},
	} {
		if got := indexStandalone(tc.s, tc.needle); got != tc.want {
			t.Errorf("indexStandalone(%q, %q) = %d, want %d", tc.s, tc.needle, got, tc.want)
		}
	}
}
