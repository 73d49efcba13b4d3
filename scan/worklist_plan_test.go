package scan

import (
	"context"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/pgtest"
	"ctpdesk/internal/sqldialect"
	"ctpdesk/internal/sqlplan"
	"ctpdesk/reconcile"
	"ctpdesk/store"
)

// Each worklist filter's page and count start at the index made for it and, for the LIKE
// filters, test the index entries rather than the rows: at a million scanned customers a filter
// that read every row to keep a few would cost a hundred times its page. SQLite's plan is
// checked (its planner has no statistics to lean on); PostgreSQL has the same indexes.
func TestWorklistFiltersUseTheirIndexes(t *testing.T) {
	db := mustStore(t, backends(t)[0].url)
	s, err := New(Options{DB: db, Portfolio: noPortfolio{}, D1: noFetcher{}, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	seedWorklist(t, s, 500)
	after := cursor{Severity: severityRisk, ID: "CU00000100"}.encode()
	for _, c := range []struct {
		name  string
		q     WorklistQuery
		index string
		// covering: the count reads the index alone, no row.
		covering bool
	}{
		{"fraud", WorklistQuery{Viewer: ViewerFraud}, "worklist_by_severity", true},
		{"agent", WorklistQuery{Viewer: ViewerAgent}, "worklist_data_quality", true},
		{"kind", WorklistQuery{Viewer: ViewerFraud, Kind: "card-unknown-to-issuer"}, "worklist_by_severity", true},
		{"agent kind", WorklistQuery{Viewer: ViewerAgent, Kind: "field-differs"}, "worklist_data_quality", true},
		// Behind a wave of risks, the data-quality index skips them all.
		{"data-quality kind", WorklistQuery{Viewer: ViewerFraud, Kind: "field-differs"}, "worklist_data_quality", true},
		{"data-quality kind, next page", WorklistQuery{Viewer: ViewerFraud, Kind: "field-differs", After: after, Limit: 50}, "worklist_data_quality", true},
		{"rare data-quality kind", WorklistQuery{Viewer: ViewerFraud, Kind: reconcile.KindFieldMissing}, "worklist_data_quality", true},
		{"severity", WorklistQuery{Viewer: ViewerFraud, Severity: SeverityRisk}, "worklist_by_severity", true},
		{"directory", WorklistQuery{Viewer: ViewerFraud, Directory: "VISA"}, "worklist_by_severity", true},
		{"state", WorklistQuery{Viewer: ViewerFraud, State: ItemEscalated}, "worklist_by_state", true},
		{"state and directory", WorklistQuery{Viewer: ViewerFraud, State: ItemOpen, Directory: "VISA"}, "worklist_by_state", true},
		{"agent state", WorklistQuery{Viewer: ViewerAgent, State: ItemEscalated}, "worklist_by_state", true},
		{"assignee", WorklistQuery{Viewer: ViewerFraud, Assignee: benchAssignee}, "worklist_by_assignee", true},
		{"unassigned", WorklistQuery{Viewer: ViewerFraud, Assignee: AssigneeNone}, "worklist_by_assignee", true},
		{"changed", WorklistQuery{Viewer: ViewerFraud, Changed: true}, "worklist_changed", false},
		{"next page", WorklistQuery{Viewer: ViewerFraud, After: after, Limit: 50}, "worklist_by_severity", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			count, args := c.q.countQuery()
			plan := queryPlan(t, s, count, args)
			if !strings.Contains(plan, "INDEX "+c.index) {
				t.Errorf("the count runs %q, want index %s", plan, c.index)
			}
			if c.covering && !strings.Contains(plan, "COVERING INDEX "+c.index) {
				t.Errorf("the count runs %q: it reads rows, want %s to cover it", plan, c.index)
			}
			page, args, err := c.q.pageQuery()
			if err != nil {
				t.Fatal(err)
			}
			if plan := queryPlan(t, s, page, args); !strings.Contains(plan, "INDEX "+c.index) || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("the page runs %q, want index %s in the page's order", plan, c.index)
			}
		})
	}
}

// queryPlan is the store's plan for a query, its steps joined: SQLite's EXPLAIN QUERY PLAN or
// PostgreSQL's EXPLAIN, as the scanner's store is.
func queryPlan(t *testing.T, s *Scanner, query string, args []any) string {
	t.Helper()
	engine := sqldialect.SQLite
	if s.db.Dialect == store.Postgres {
		engine = sqldialect.Postgres
	}
	plan, err := sqlplan.Explain(context.Background(), s.db, engine, s.db.Rebind(query), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// PostgreSQL picks a filter's plan from its statistics. With those of an empty worklist it
// expects a handful of items and reads and sorts every one (44 ms a page at 200,000 items);
// once the statistics are refreshed, as a finished scan does, every filter's page and count
// walk an index in the page's order.
func TestWorklistFiltersUseIndexesOnPostgres(t *testing.T) {
	// pgtest.URL skips outside CI when no PostgreSQL server is set, and fails under CI.
	db := mustStore(t, pgtest.URL(t, "ctpdesk_worklist_plan"))
	s, err := New(Options{DB: db, Portfolio: noPortfolio{}, D1: noFetcher{}, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Statistics from before the scan, as a first scan leaves them when autovacuum is slower.
	if err := s.refreshPlannerStats(ctx); err != nil {
		t.Fatal(err)
	}
	seedWorklist(t, s, 50_000)
	stale := WorklistQuery{Viewer: ViewerFraud, Directory: "MASTERCARD", State: ItemOpen}
	page, args, err := stale.pageQuery()
	if err != nil {
		t.Fatal(err)
	}
	if plan := queryPlan(t, s, page, args); !strings.Contains(plan, "Sort") {
		t.Logf("with stale statistics the page already runs %q", plan)
	}
	if err := s.refreshPlannerStats(ctx); err != nil {
		t.Fatal(err)
	}
	after := cursor{Severity: severityRisk, ID: "CU00000100"}.encode()
	for _, q := range []WorklistQuery{
		{Viewer: ViewerFraud},
		{Viewer: ViewerAgent},
		{Viewer: ViewerFraud, Kind: "card-unknown-to-issuer"},
		{Viewer: ViewerFraud, Kind: "field-differs"},
		{Viewer: ViewerFraud, Severity: SeverityRisk},
		{Viewer: ViewerFraud, Directory: "MASTERCARD"},
		{Viewer: ViewerFraud, State: ItemEscalated},
		{Viewer: ViewerFraud, State: ItemOpen, Directory: "MASTERCARD"},
		{Viewer: ViewerAgent, State: ItemEscalated},
		{Viewer: ViewerFraud, Assignee: benchAssignee},
		{Viewer: ViewerFraud, Changed: true},
		{Viewer: ViewerFraud, After: after, Limit: 50},
	} {
		count, cargs := q.countQuery()
		page, pargs, err := q.pageQuery()
		if err != nil {
			t.Fatal(err)
		}
		for what, plan := range map[string]string{"count": queryPlan(t, s, count, cargs), "page": queryPlan(t, s, page, pargs)} {
			if strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "Sort") || !strings.Contains(plan, "Index") {
				t.Errorf("%+v: the %s runs %q, want an index walked in the page's order", q, what, plan)
			}
		}
	}
}

// A finished scan refreshes PostgreSQL's statistics of the tables it rewrote.
func TestFinishedScanAnalyzesWhatItWrote(t *testing.T) {
	db := mustStore(t, pgtest.URL(t, "ctpdesk_scan_analyze"))
	w := newWorld(t, 60)
	s := mustScanner(t, db, w, nil)
	ctx := context.Background()
	run, err := s.StartScan(ctx, StartRequest{Trigger: TriggerCommand, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, run.ID, time.Minute, finished)
	// The statistics follow the scan's finish; last_analyze counts ANALYZE commands only, not
	// autovacuum's.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var analyzed int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_user_tables
			WHERE relname IN ('worklist_items', 'scan_customers', 'scan_results') AND last_analyze IS NOT NULL`).Scan(&analyzed)
		if err != nil {
			t.Fatal(err)
		}
		if analyzed == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 3 tables analyzed 30 s after the scan finished", analyzed)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
