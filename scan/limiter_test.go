package scan

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// The rate cap is the deployment's: three replicas' scanners sharing one database send, all
// together, at most R calls in any second. The clients' transports record when each call left;
// the sandbox's own count of arrivals must agree on the total.
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
			per := w.sent.perSecond()
			t.Logf("calls sent per second: %v; arrived: %v", per, w.calls.perSecond())
			// The limiter releases a slot only inside its second, but a worker can be descheduled
			// between that check and the send, so a call of one second's end may be recorded in
			// the next. Three seconds together hold that jitter: at most 3R plus one call per
			// boundary. Replicas that did not share the budget would send 3R a second.
			const window, slack = 3, 3
			first, last := int64(1<<62), int64(0)
			for sec := range per {
				first, last = min(first, sec), max(last, sec)
			}
			for sec := first - window + 1; sec <= last; sec++ {
				calls := 0
				for s := sec; s < sec+window; s++ {
					calls += per[s]
				}
				if calls > window*rate+slack {
					t.Errorf("seconds %d to %d: %d calls sent, the cap allows %d (%d a second, %d calls of jitter)", sec, sec+window-1, calls, window*rate+slack, rate, slack)
				}
			}
			if sent, arrived := w.sent.total(), w.calls.total(); sent != n || arrived != n {
				t.Errorf("%d profile calls sent and %d arrived for %d customers", sent, arrived, n)
			}
			// The cap spread the scan over time instead of bursting it: n calls at R a second
			// fill n/R seconds; the first second's may all go at its very end (their slot times
			// passed while the scan started), so from the first call to the last is more than
			// n/R - 2 seconds.
			if span := w.sent.span(); span < time.Duration(n/rate-2)*time.Second {
				t.Errorf("%d calls within %s: faster than the cap allows", n, span)
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

// readyFirst is a D1 client that counts how often the scan made it ready and whether any call
// came before that: the scan must have the client fetch its token before it takes a rate slot,
// or a released call waits for the token and leaves in a later second than its slot's.
type readyFirst struct {
	next  Fetcher
	mu    sync.Mutex
	ready bool
	// early counts the calls made before the client was first made ready.
	early, readies, calls int
}

func (r *readyFirst) Ready(ctx context.Context) error {
	r.mu.Lock()
	r.ready, r.readies = true, r.readies+1
	r.mu.Unlock()
	return r.next.(readier).Ready(ctx)
}

func (r *readyFirst) GetProfiles(ctx context.Context, consumerID string, opt d1.FetchOptions) (d1.Result, error) {
	r.mu.Lock()
	if !r.ready {
		r.early++
	}
	r.calls++
	r.mu.Unlock()
	return r.next.GetProfiles(ctx, consumerID, opt)
}

// TestScanReadiesTheClientBeforeTakingSlots checks that every chunk has the D1 client get
// ready (its token) before its first rate-limited call.
func TestScanReadiesTheClientBeforeTakingSlots(t *testing.T) {
	const n = 60
	w := newWorld(t, n)
	client := &readyFirst{next: w.newClient(t)}
	s := mustScanner(t, mustStore(t, backends(t)[0].url), w, func(o *Options) {
		o.D1, o.Rate, o.Workers, o.ChunkSize = client, 50, 2, 10
	})
	if p := scanOnce(t, s); p.Done != n {
		t.Fatalf("scan stored %d customers, want %d", p.Done, n)
	}
	client.mu.Lock()
	defer client.mu.Unlock()
	if client.calls != n || client.early != 0 || client.readies < n/10 {
		t.Errorf("%d calls, %d before the client was made ready, %d readies for %d chunks; want %d, 0 and at least %d",
			client.calls, client.early, client.readies, n/10, n, n/10)
	}
}

// TestFlushFromManyGoroutines flushes people's call counts from several goroutines at once, as
// the scanner's flush loop does beside a caller that needs the counts written now: every call
// is counted once, and (under the race detector, as make test runs it) the goroutines that
// find nothing to write do not race over when the old rows were last pruned.
func TestFlushFromManyGoroutines(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustStore(t, b.url)
			l := newLimiter(db, 10, time.Now)
			ctx := context.Background()
			at := time.Unix(time.Now().Unix(), 0)
			const goroutines, rounds = 4, 20
			errs := make(chan error, goroutines*rounds)
			for r := range rounds {
				l.mu.Lock()
				l.lastCleanup = 0 // every round's flushes are due to prune
				l.mu.Unlock()
				if r%2 == 0 {
					l.countInteractive(at)
				}
				start := make(chan struct{})
				var wg sync.WaitGroup
				for range goroutines {
					wg.Go(func() {
						<-start
						errs <- l.flush(ctx)
					})
				}
				close(start)
				wg.Wait()
			}
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var n int64
			if err := db.QueryRowContext(ctx, db.Rebind("SELECT interactive FROM scan_rate WHERE second = ?"), at.Unix()).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != rounds/2 {
				t.Errorf("interactive calls stored = %d, want %d", n, rounds/2)
			}
		})
	}
}
