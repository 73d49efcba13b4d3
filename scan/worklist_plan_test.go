package scan

import (
	"context"
	"strings"
	"testing"

	"ctpdesk/internal/sqldialect"
	"ctpdesk/internal/sqlplan"
	"ctpdesk/reconcile"
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

// queryPlan is SQLite's plan for a query, its steps joined.
func queryPlan(t *testing.T, s *Scanner, query string, args []any) string {
	t.Helper()
	plan, err := sqlplan.Explain(context.Background(), s.db, sqldialect.SQLite, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
