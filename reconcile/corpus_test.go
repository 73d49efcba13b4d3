package reconcile_test

import (
	"slices"
	"testing"
	"time"

	"ctpdesk/reconcile"
	"ctpdesk/reconcile/corpus"

	"github.com/google/go-cmp/cmp"
)

// corpusNow is the clock of the corpus tests.
var corpusNow = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

// TestCorpusCounts runs Compare on every scenario of the corpus and checks the counts a
// person would give: differences, equivalent values, risks and their kinds, each column's
// state, and that every cell holds exactly one of the six verdicts or one cell state.
func TestCorpusCounts(t *testing.T) {
	verdicts := reconcile.Verdicts()
	for _, s := range corpus.MustLoad(t) {
		t.Run(s.Slug, func(t *testing.T) {
			res, err := s.Fetch(corpusNow)
			got := reconcile.CompareAnswer(s.Issuer, res, err, reconcile.Options{Now: corpusNow})
			type counts struct{ Differences, Equivalents, Risks int }
			want := counts{s.Want.Differences, s.Want.Equivalents, s.Want.Risks}
			if diff := cmp.Diff(want, counts{got.Summary.Differences, got.Summary.Equivalents, got.Summary.Risks}); diff != "" {
				t.Errorf("%s: counts (-want +got):\n%s", s.Name, diff)
			}
			var kinds []string
			for _, f := range got.Findings {
				if f.Severity == reconcile.SeverityRisk {
					kinds = append(kinds, f.Kind)
				}
			}
			if diff := cmp.Diff(s.Want.RiskKinds, kinds, cmpEmptyEqual); diff != "" {
				t.Errorf("risk kinds (-want +got):\n%s", diff)
			}
			states := map[string]string{}
			for _, col := range got.Columns {
				states[col.Directory] = string(col.State)
				if col.Stale != s.Want.Stale {
					t.Errorf("%s stale = %v, want %v", col.Directory, col.Stale, s.Want.Stale)
				}
				if col.State == reconcile.StateUnavailable && col.ErrorClass != s.Want.Failure {
					t.Errorf("%s error class = %q, want %q", col.Directory, col.ErrorClass, s.Want.Failure)
				}
				if col.CorrelationID != s.CorrelationID() {
					t.Errorf("%s correlation id = %q, want %q", col.Directory, col.CorrelationID, s.CorrelationID())
				}
			}
			if diff := cmp.Diff(s.Want.Columns, states); diff != "" {
				t.Errorf("column states (-want +got):\n%s", diff)
			}
			if got.Summary.Checked() != s.Want.Checked() {
				t.Errorf("checked = %v, want %v", got.Summary.Checked(), s.Want.Checked())
			}
			for _, r := range got.Rows {
				for _, c := range r.Cells {
					switch {
					case (c.Verdict == "") == (c.State == ""):
						t.Errorf("%s@%s has verdict %q and state %q: exactly one is wanted", r.Field, c.Directory, c.Verdict, c.State)
					case c.Verdict != "" && !slices.Contains(verdicts, c.Verdict):
						t.Errorf("%s@%s has verdict %q, not one of %v", r.Field, c.Directory, c.Verdict, verdicts)
					case c.State != "" && c.State != reconcile.NotProvided && c.State != reconcile.NotApplicable:
						t.Errorf("%s@%s has state %q", r.Field, c.Directory, c.State)
					}
				}
			}
		})
	}
}

// cmpEmptyEqual makes a nil and an empty list of risk kinds the same.
var cmpEmptyEqual = cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })
