package d1_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"ctpdesk/d1"
)

// BenchmarkGetProfiles compares a bare http.Client GET of the profiles URL (same server, same
// transport, a valid token) with the client's uncached call, which adds the breaker, retry
// bookkeeping, decoding and PAN cutting; and measures calls through the cache. `make bench`
// runs it; the ratio client-uncached/bare-http is the client's overhead.
func BenchmarkGetProfiles(b *testing.B) {
	e := newEnv(b, envOptions{})
	c := e.matchCustomer(b)
	ctx := context.Background()
	if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{}); err != nil {
		b.Fatal(err)
	}
	tok := tokenOf(b, e)
	url := e.cfg.BankingURL + d1.ProfilesPath(testIssuer, c.ConsumerID)
	hc := e.srv.Client()

	b.Run("bare-http", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "application/json")
			req.Header.Set(d1.HeaderCorrelationID, "bench")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
	b.Run("client-uncached", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{Fresh: true, RequestID: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client-cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{RequestID: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client-cached-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{RequestID: "bench"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// tokenOf fetches a token from the sandbox the way the client does, for the bare benchmark.
func tokenOf(b *testing.B, e *env) string {
	b.Helper()
	f := &capturingTransport{next: e.srv.Client().Transport}
	c, err := d1.New(e.cfg, &http.Client{Transport: f})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.GetProfiles(context.Background(), d1testConsumer(e), d1.FetchOptions{}); err != nil {
		b.Fatal(err)
	}
	return f.bearer
}

// d1testConsumer returns any known consumer id.
func d1testConsumer(e *env) string { return e.portfolio.All()[0].ConsumerID }

// capturingTransport remembers the last bearer token sent.
type capturingTransport struct {
	next   http.RoundTripper
	bearer string
}

func (c *capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.Header.Get("Authorization"); len(h) > 7 {
		c.bearer = h[7:]
	}
	return c.next.RoundTrip(r)
}

// BenchmarkDecodeProfiles measures the wire decoding alone on the documented two-directory
// example (unknown fields, arrays, numbers as strings).
func BenchmarkDecodeProfiles(b *testing.B) {
	body := []byte(exampleBody)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := d1.DecodeProfiles(body); err != nil {
			b.Fatal(err)
		}
	}
}
