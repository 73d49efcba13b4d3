package handlers

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/d1"
)

// nopAuditor accepts every event at once: the "auditing off" baseline.
type nopAuditor struct{}

func (nopAuditor) Record(context.Context, audit.Event) error { return nil }

func (nopAuditor) Begin(context.Context, audit.Event) *audit.Receipt { return audit.Settled(nil) }

// BenchmarkComparisonAudit measures what the durable audit write adds to a comparison view:
// the same request through the real route table, guard and session store, with a real SQLite
// trail (synchronous=FULL, group commit) against an auditor that does nothing. D1 answers
// from memory so the difference is the audit write. Clients = concurrent requests.
func BenchmarkComparisonAudit(b *testing.B) {
	profiles := revealProfiles(func(context.Context, string, d1.FetchOptions) (d1.Result, error) {
		return d1.Result{FetchedAt: time.Now(), Profiles: []d1.Profile{{Directory: "VISA",
			Consumer: d1.Consumer{FirstName: "A", LastName: "B", Emails: []string{"a@example.test"}}}}}, nil
	})
	for _, on := range []bool{false, true} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("audit=%v/clients=%d", on, clients), func(b *testing.B) {
				f := newTrailFixture(b, func(d *Deps) {
					d.Profiles = profiles
					if !on {
						d.Auditor = nopAuditor{}
					}
				})
				target := "/customers/" + f.customer + "/comparison"
				var failed atomic.Int64
				view := func() {
					if w := f.get(RoleAgent, target, "HX-Request", "true"); w.Code != http.StatusOK {
						failed.Add(1)
					}
				}
				for range 50 {
					view() // warm the session, the issuer DB pages and the trail's writer
				}
				b.ResetTimer()
				if clients == 1 {
					for b.Loop() {
						view()
					}
				} else {
					// RunParallel starts parallelism × GOMAXPROCS goroutines.
					b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							view()
						}
					})
				}
				b.StopTimer()
				if n := failed.Load(); n > 0 {
					b.Fatalf("%d requests failed", n)
				}
			})
		}
	}
}
