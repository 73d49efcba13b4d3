package scan

import (
	"context"
	"net/http"
	"testing"
	"time"

	"ctpdesk/d1sandbox"
)

// The rate cap is the deployment's: three replicas' scanners sharing one database make, all
// together, at most R calls in any second of the sandbox's own count (with 5 % for a call that
// set off at the end of one second and arrived in the next).
func TestRateCapHoldsAcrossThreeReplicas(t *testing.T) {
	const rate, n = 25, 150
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, n)
			var scanners []*Scanner
			for range 3 {
				db := mustStore(t, b.url)
				client := w.newClient(t)
				scanners = append(scanners, mustScanner(t, db, w, func(o *Options) {
					o.D1, o.Rate, o.Workers, o.ChunkSize = client, rate, 3, 10
				}))
			}
			p := scanOnce(t, scanners[0])
			if p.Done != n {
				t.Fatalf("scan stored %d customers, want %d", p.Done, n)
			}
			t.Logf("calls per second: %v", w.calls.perSecond())
			limit := rate * 105 / 100
			busy := 0
			// The cap is on when calls are sent; the sandbox counts when they arrive, and on a
			// busy machine a call sent at the end of one second can arrive in the next. So the
			// cap is checked over every two consecutive seconds, where that jitter evens out.
			per := w.calls.perSecond()
			for sec, calls := range per {
				if pair := calls + per[sec+1]; pair > 2*limit {
					t.Errorf("seconds %d and %d: the sandbox counted %d calls, the cap is %d a second (+5 %%: %d for two)", sec, sec+1, pair, rate, 2*limit)
				}
				if calls > 0 {
					busy++
				}
			}
			if total := w.calls.total(); total != n {
				t.Errorf("the sandbox saw %d profile calls for %d customers", total, n)
			}
			// The cap spread the scan over time instead of bursting it: at R a second it cannot
			// take fewer seconds than n/R.
			if busy < n/rate {
				t.Errorf("%d calls in %d seconds: faster than the cap allows", n, busy)
			}
		})
	}
}

// A 429 from D1 makes the whole scan back off and resume; nobody is counted unavailable for
// it, and each customer is still stored exactly once.
func TestScanBacksOffOnRateLimitAndResumes(t *testing.T) {
	const n = 120
	w := newWorld(t, n)
	db := mustStore(t, backends(t)[0].url)
	s := mustScanner(t, db, w, nil)
	s.limiter.first = 300 * time.Millisecond
	// More 429s in a row than the client retries: calls fail as rate-limited.
	w.sandbox.SetFault(d1sandbox.Fault{Status: http.StatusTooManyRequests, Times: 6})
	p := scanOnce(t, s)
	if p.Done != n || p.Unavailable != 0 || p.Compared+p.NotRegistered != n {
		t.Fatalf("after backing off: done %d unavailable %d compared %d (errors %v), want %d compared", p.Done, p.Unavailable, p.Compared, p.Errors, n)
	}
	var strikes int
	if err := db.QueryRow("SELECT strikes FROM scan_backoff WHERE id = 1").Scan(&strikes); err != nil || strikes == 0 {
		t.Errorf("scan_backoff strikes %d, %v: the scan never backed off", strikes, err)
	}
}

// People go first: while a person's D1 call is in flight, the replica's scan workers take no
// slot, and people's calls are counted against the scan's share of their second.
func TestInteractiveCallsGoFirst(t *testing.T) {
	w := newWorld(t, 20)
	db := mustStore(t, backends(t)[0].url)
	s := mustScanner(t, db, w, func(o *Options) { o.Rate = 10 })
	ctx := context.Background()
	s.limiter.interactive.Add(1)
	waited := make(chan error, 1)
	go func() { waited <- s.limiter.wait(ctx) }()
	select {
	case err := <-waited:
		t.Fatalf("the scan took a slot while a person's call was in flight (%v)", err)
	case <-time.After(150 * time.Millisecond):
	}
	s.limiter.interactive.Add(-1)
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	// Ten people's calls in the current second use up its whole budget of ten.
	people := s.Interactive(w.client)
	sec := time.Now().Unix()
	for i := range 10 {
		if _, err := people.GetProfiles(ctx, w.consumerID(t, i), fetchFresh); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.limiter.flush(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Now().Unix() != sec {
		t.Skip("the second ended during the calls; the budget check needs them in one second")
	}
	if _, n, _, err := s.limiter.lease(ctx, sec, time.Now()); err != nil || n != 0 {
		t.Errorf("lease after ten people's calls in a second of ten: %d slots, %v; want none", n, err)
	}
}
