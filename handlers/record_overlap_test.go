package handlers

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/dbfault"
	"ctpdesk/scan"
)

// overlapGuard bounds each wait of these tests; only a wait without end fails them.
const overlapGuard = 10 * time.Second

// firstWriteRecorder is a ResponseRecorder that says when the handler first writes anything,
// header or body, and may be read only after the handler returned.
type firstWriteRecorder struct {
	*httptest.ResponseRecorder
	once  sync.Once
	wrote chan struct{}
}

func newFirstWriteRecorder() *firstWriteRecorder {
	return &firstWriteRecorder{ResponseRecorder: httptest.NewRecorder(), wrote: make(chan struct{})}
}

func (w *firstWriteRecorder) WriteHeader(code int) {
	w.once.Do(func() { close(w.wrote) })
	w.ResponseRecorder.WriteHeader(code)
}

func (w *firstWriteRecorder) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.wrote) })
	return w.ResponseRecorder.Write(b)
}

// serveAsync sends a GET as who on its own goroutine, with ctx, and returns its recorder and
// a channel closed when the handler returned.
func (f *trailFixture) serveAsync(ctx context.Context, who, target string) (*firstWriteRecorder, <-chan struct{}) {
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	r.AddCookie(f.cookies[who])
	w := newFirstWriteRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.e.ServeHTTP(w, r)
	}()
	return w, done
}

// The customer page is read and rendered while its audit event commits, and nothing of it
// leaves before the event is durable. With the dashboard database's write lock held by another
// connection (the commit waits), the page's scan status is read while the event is not yet
// stored, and the handler writes nothing; once the lock goes, the page arrives whole with its
// event stored. Without the overlap the scan status would only be read after the commit.
func TestCustomerPageIsMadeWhileItsEventCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctpdesk.db")
	storedAtRead := make(chan int, 4)
	var f *trailFixture
	f = newReplicaFixture(t, replicaSetup{DBPath: path}, func(d *Deps) {
		d.Scans = &fakeScans{tb: t, customer: func(id string, _ scan.Viewer) (scan.CustomerStatus, error) {
			storedAtRead <- len(f.events(t, audit.Filter{CustomerID: id, Action: audit.ActionCustomerView}))
			return scan.CustomerStatus{}, nil
		}}
	})
	target := "/customers/" + f.customer
	if w := f.get("agent", target); w.Code != http.StatusOK {
		t.Fatalf("unlocked: %d %s", w.Code, w.Body)
	}
	<-storedAtRead // before or after that commit: it did not wait

	release := dbfault.LockSQLite(t, path)
	w, done := f.serveAsync(context.Background(), "agent", target)
	select {
	case n := <-storedAtRead:
		if n != 1 {
			t.Fatalf("%d view events stored when the scan status was read, want the first one only", n)
		}
	case <-time.After(overlapGuard):
		t.Fatal("the scan status was not read while the event waited for the database")
	}
	select {
	case <-w.wrote:
		t.Fatal("the page was written before its audit event was committed")
	case <-done:
		t.Fatal("the handler returned before its audit event was committed")
	case <-time.After(200 * time.Millisecond):
	}
	release()
	select {
	case <-done:
	case <-time.After(overlapGuard):
		t.Fatal("the page did not come after the lock went")
	}
	cust, err := f.issuer.Get(context.Background(), f.customer)
	if err != nil {
		t.Fatal(err)
	}
	if shown := strings.Contains(w.Body.String(), html.EscapeString(cust.LastName)); w.Code != http.StatusOK || !shown {
		t.Fatalf("after the lock went: %d, %q in the page: %v", w.Code, cust.LastName, shown)
	}
	if n := len(f.events(t, audit.Filter{CustomerID: f.customer, Action: audit.ActionCustomerView})); n != 2 {
		t.Fatalf("%d view events stored, want 2", n)
	}
}

// A search, a customer page, a comparison, the worklist and the scans page whose audit event
// cannot be committed in time send nothing of what they had already read and rendered: with
// the commit held by a lock past the trail's bound on a commit's wait, each answers 503 with
// none of its data, and no event is stored.
func TestAnswersMadeDuringAFailedCommitAreDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctpdesk.db")
	var f *trailFixture
	const startedBy = "Scan Starter Person"
	f = newReplicaFixture(t, replicaSetup{DBPath: path, RecordTimeout: 2 * time.Second}, func(d *Deps) {
		d.Scans = &fakeScans{tb: t,
			customer: func(string, scan.Viewer) (scan.CustomerStatus, error) { return scan.CustomerStatus{}, nil },
			worklist: func(scan.WorklistQuery) (scan.WorklistPage, error) {
				return scan.WorklistPage{Items: []scan.Item{{CustomerID: f.customer, State: scan.ItemOpen, Severity: scan.SeverityRisk,
					Kinds: []string{"card-unknown-to-issuer"}, Directories: []string{"VISA"}, Findings: 1, LastScannedAt: scannedAt}}, Total: 1}, nil
			},
			runs: func() ([]scan.Progress, error) {
				return []scan.Progress{{Run: scan.Run{ID: 7, StartedBy: "sub-fraud", StartedByName: startedBy, State: "done"}}}, nil
			},
		}
	})
	cust, err := f.issuer.Get(context.Background(), f.customer)
	if err != nil {
		t.Fatal(err)
	}
	family := cust.LastName
	routes := map[string]struct{ who, target, shows string }{
		"search":     {"agent", "/customers?q=" + f.customer, family},
		"page":       {"agent", "/customers/" + f.customer, family},
		"comparison": {"agent", "/customers/" + f.customer + "/comparison", family},
		"worklist":   {"fraud", "/worklist", f.customer},
		"scans":      {"fraud", "/scans", startedBy},
	}
	for name, r := range routes {
		w := f.get(r.who, r.target)
		if shown := strings.Contains(w.Body.String(), html.EscapeString(r.shows)); w.Code != http.StatusOK || !shown {
			t.Fatalf("%s unlocked: %d, %q shown: %v", name, w.Code, r.shows, shown)
		}
	}
	before := len(f.events(t, audit.Filter{}))
	release := dbfault.LockSQLite(t, path)
	defer release()
	for name, r := range routes {
		t.Run(name, func(t *testing.T) {
			w, done := f.serveAsync(context.Background(), r.who, r.target)
			select {
			case <-done:
			case <-time.After(overlapGuard):
				t.Fatal("no answer after the request's deadline")
			}
			body := w.Body.String()
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("status %d, want 503", w.Code)
			}
			for _, v := range []string{r.shows, family, cust.Email, cust.ConsumerID, f.customer} {
				if strings.Contains(body, html.EscapeString(v)) {
					t.Errorf("%q sent although its access was not recorded", v)
				}
			}
		})
	}
	release()
	if n := len(f.events(t, audit.Filter{})); n != before {
		t.Fatalf("%d events stored after the lock went, want %d: the refused ones are not", n, before)
	}
}
