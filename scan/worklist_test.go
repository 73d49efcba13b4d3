package scan

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
)

// scanOnce runs one full scan and returns its progress when finished.
func scanOnce(t *testing.T, s *Scanner) Progress {
	t.Helper()
	run, err := s.StartScan(context.Background(), StartRequest{Trigger: TriggerAnalyst, By: "https://idp|fraud-1", ByName: "Fran"})
	if err != nil {
		t.Fatal(err)
	}
	return waitFor(t, s, run.ID, time.Minute, finished)
}

// firstItem returns the first worklist item the query finds.
func firstItem(t *testing.T, s *Scanner, q WorklistQuery) Item {
	t.Helper()
	page, err := s.Worklist(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatalf("worklist %+v is empty", q)
	}
	return page.Items[0]
}

// Decisions survive a rescan that finds the same thing; a resolved item the next scan finds
// again reopens; a customer whose directory data changed between scans is marked changed.
func TestDecisionsSurviveARescanAndResolvedItemsReopen(t *testing.T) {
	w := newWorld(t, 200)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustStore(t, b.url)
			s := mustScanner(t, db, w, nil)
			ctx := context.Background()
			first := scanOnce(t, s)
			risk := firstItem(t, s, WorklistQuery{Viewer: ViewerFraud, Severity: SeverityRisk})
			dq := firstItem(t, s, WorklistQuery{Viewer: ViewerAgent})
			if risk.State != ItemOpen || dq.State != ItemOpen || risk.Severity != SeverityRisk {
				t.Fatalf("new items: %+v %+v", risk, dq)
			}
			if _, err := s.Decide(ctx, Decision{CustomerID: risk.CustomerID, State: ItemEscalated, Reason: "suspected-fraud", By: "sub-fraud", ByName: "Fran", Viewer: ViewerFraud}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Decide(ctx, Decision{CustomerID: dq.CustomerID, State: ItemResolved, Reason: "updated-at-issuer", By: "sub-agent", ByName: "Ada", Viewer: ViewerAgent}); err != nil {
				t.Fatal(err)
			}
			// An agent may not decide on a risk, nor read it.
			if _, err := s.Decide(ctx, Decision{CustomerID: risk.CustomerID, State: ItemResolved, Reason: "card-removed", By: "sub-agent", Viewer: ViewerAgent}); !errors.Is(err, ErrNotFound) {
				t.Errorf("agent deciding on a risk: %v, want ErrNotFound", err)
			}
			// Between the scans a directory drops out of one customer's answer.
			changedID := risk.CustomerID
			c, err := w.issuer.Get(ctx, changedID)
			if err != nil {
				t.Fatal(err)
			}
			_, dv := d1sandbox.Derive(testSeed, c)
			w.sandbox.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{AbsentDirectory: dv.Directories[len(dv.Directories)-1]})
			defer w.sandbox.ClearFaults()
			time.Sleep(5 * time.Millisecond) // the second scan must start after the decisions
			second := scanOnce(t, s)
			if second.Done != first.Done {
				t.Errorf("second scan stored %d customers, the first %d", second.Done, first.Done)
			}
			st, err := s.Customer(ctx, dq.CustomerID, ViewerAgent)
			if err != nil {
				t.Fatal(err)
			}
			if st.Item == nil || st.Item.State != ItemOpen || st.Item.Reason != "found-again" || st.Item.ReopenedAt.IsZero() {
				t.Errorf("resolved item found again: %+v, want reopened", st.Item)
			}
			if st.LastScanID != second.ID || st.Changed {
				t.Errorf("unchanged customer: %+v", st)
			}
			st, err = s.Customer(ctx, changedID, ViewerFraud)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Changed {
				t.Errorf("customer whose directory dropped out is not marked changed: %+v", st)
			}
			if st.Item == nil || st.Item.State != ItemEscalated || st.Item.DecidedByName != "Fran" || st.Item.Reason != "suspected-fraud" {
				t.Errorf("escalated item after the rescan: %+v, want its decision kept", st.Item)
			}
			changed, err := s.Worklist(ctx, WorklistQuery{Viewer: ViewerFraud, Changed: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range changed.Items {
				if !it.Changed {
					t.Errorf("changed filter kept %+v", it)
				}
			}
		})
	}
}

// The worklist pages by keyset without losing or repeating an item, whatever the filter, and
// its count is the number of items the filter keeps.
func TestWorklistPagesAndFilters(t *testing.T) {
	w := newWorld(t, 300)
	db := mustStore(t, backends(t)[0].url)
	s := mustScanner(t, db, w, nil)
	scanOnce(t, s)
	ctx := context.Background()
	// Every item as fraud analysts see it, to check that a kind filter leaves none out.
	var everything []Item
	for q := (WorklistQuery{Viewer: ViewerFraud, Limit: MaxWorklistPage}); ; {
		page, err := s.Worklist(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		everything = append(everything, page.Items...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	for _, q := range []WorklistQuery{
		{Viewer: ViewerFraud},
		{Viewer: ViewerAgent},
		{Viewer: ViewerFraud, Severity: SeverityRisk},
		{Viewer: ViewerFraud, Kind: "field-differs"},
		{Viewer: ViewerFraud, Kind: "card-unknown-to-issuer"},
		{Viewer: ViewerFraud, Kind: "consumer-without-card"},
		{Viewer: ViewerFraud, Directory: issuerdb.SchemeVisa},
		{Viewer: ViewerAgent, Kind: "consumer-without-card"},
		{Viewer: ViewerFraud, State: ItemOpen, Assignee: AssigneeNone},
	} {
		q.Limit = 7
		seen := map[string]bool{}
		lastSev := ""
		total := -1
		for {
			page, err := s.Worklist(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			total = page.Total
			for _, it := range page.Items {
				if seen[it.CustomerID] {
					t.Fatalf("%+v: %s twice", q, it.CustomerID)
				}
				seen[it.CustomerID] = true
				if lastSev == SeverityWarn && it.Severity == SeverityRisk {
					t.Fatalf("%+v: a risk after a warning: not most severe first", q)
				}
				lastSev = it.Severity
				if q.Viewer == ViewerAgent {
					// Not even a customer who also has a risk: the row would tell of it.
					if whole, err := s.Item(ctx, it.CustomerID, ViewerFraud); err != nil || whole.Severity == SeverityRisk {
						t.Fatalf("agent sees %s, whose item holds a risk (%v)", it.CustomerID, err)
					}
				}
				if q.Kind != "" && !slices.Contains(it.Kinds, q.Kind) {
					t.Fatalf("%+v kept %+v", q, it)
				}
				if q.Directory != "" && !slices.Contains(it.Directories, q.Directory) {
					t.Fatalf("%+v kept %+v", q, it)
				}
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
		if len(seen) != total || total == 0 {
			t.Errorf("%+v: paged through %d items, count says %d", q, len(seen), total)
		}
		if q.Viewer == ViewerFraud && q.Kind != "" {
			for _, it := range everything {
				if slices.Contains(it.Kinds, q.Kind) && !seen[it.CustomerID] {
					t.Errorf("%+v left out %+v", q, it)
				}
			}
		}
	}
	for _, q := range []WorklistQuery{
		{Viewer: "auditor"}, {Viewer: ViewerFraud, Kind: "drop table"}, {Viewer: ViewerFraud, Severity: "high"},
		{Viewer: ViewerFraud, State: "closed"}, {Viewer: ViewerFraud, Directory: "%"}, {Viewer: ViewerFraud, After: "!!"},
		{Viewer: ViewerFraud, After: cursor{Severity: 7, ID: "x"}.encode()}, {Viewer: ViewerFraud, Limit: MaxWorklistPage + 1},
	} {
		if _, err := s.Worklist(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", q, err)
		}
	}
	if _, err := s.Decide(ctx, Decision{CustomerID: "CU00000001", State: ItemResolved, Reason: "because I said so", By: "x", Viewer: ViewerFraud}); !errors.Is(err, ErrInvalid) {
		t.Errorf("free-text reason: %v, want ErrInvalid", err)
	}
}

// Only the last few finished scans keep their per-customer rows; older ones keep their
// summary, and the worklist and the customers' latest scans are untouched.
func TestOldScansKeepTheirSummaryButNotTheirRows(t *testing.T) {
	w := newWorld(t, 40)
	db := mustStore(t, backends(t)[0].url)
	s := mustScanner(t, db, w, nil)
	var runs []Progress
	for range keptScans + 2 {
		runs = append(runs, scanOnce(t, s))
	}
	for i, p := range runs {
		want := 40
		if i < len(runs)-keptScans {
			want = 0
		}
		// The last scan's job prunes just after it marks the scan finished.
		var rows int
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if err := db.QueryRow("SELECT count(*) FROM scan_results WHERE scan_id = ?", p.ID).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows == want || time.Now().After(deadline) {
				break
			}
		}
		if rows != want {
			t.Errorf("scan %d (%d of %d) keeps %d rows, want %d", p.ID, i+1, len(runs), rows, want)
		}
		again, err := s.Progress(context.Background(), p.ID)
		if err != nil || again.Done != 40 || again.WithRisks != p.WithRisks {
			t.Errorf("scan %d summary after pruning: %+v, %v", p.ID, again, err)
		}
	}
	st, err := s.Customer(context.Background(), issuerdb.CustomerID(0), ViewerFraud)
	if err != nil || !st.Scanned || st.LastScanID != runs[len(runs)-1].ID {
		t.Errorf("customer status after pruning: %+v, %v", st, err)
	}
}

// The count stops at CountCap, and says so, however many items the filter keeps.
func TestWorklistCountStopsAtTheCap(t *testing.T) {
	db := mustStore(t, backends(t)[0].url)
	s, err := New(Options{DB: db, Portfolio: noPortfolio{}, D1: noFetcher{}, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	seedWorklist(t, s, CountCap+50)
	page, err := s.Worklist(context.Background(), WorklistQuery{Viewer: ViewerFraud})
	if err != nil || page.Total != CountCap || !page.Capped {
		t.Errorf("count of %d items: %d (capped %v), %v; want %d capped", CountCap+50, page.Total, page.Capped, err, CountCap)
	}
	page, err = s.Worklist(context.Background(), WorklistQuery{Viewer: ViewerFraud, Severity: SeverityRisk, State: ItemResolved})
	if err != nil || page.Capped || page.Total == 0 || page.Total >= CountCap {
		t.Errorf("narrow filter: %d (capped %v), %v; want an exact count", page.Total, page.Capped, err)
	}
}
