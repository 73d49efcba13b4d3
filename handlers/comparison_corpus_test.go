package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/reconcile"
	"ctpdesk/reconcile/corpus"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// pageCounts is what a person counts on a rendered comparison: the summary's numbers, and the
// same numbers counted again from the cells themselves.
type pageCounts struct {
	Counted                  bool
	Differences, Equivalents int
	Risks                    int
	// CellDifferences counts cells marked differs or missing plus cards marked as one
	// difference in the card matrix; CellEquivalents counts equivalent cells.
	CellDifferences, CellEquivalents int
	Columns                          map[string]string
}

// readPage reads the counts of a rendered comparison and checks the hooks contract on the way:
// data-verdict holds only the six verdicts and data-state on a cell only the two cell states.
func readPage(t *testing.T, body string) pageCounts {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := doc.Find(`[data-testid="comparison-summary"]`)
	num := func(attr string) int { n, _ := strconv.Atoi(sum.AttrOr(attr, "")); return n }
	p := pageCounts{Counted: sum.AttrOr("data-counted", "") == "true", Differences: num("data-differences"),
		Equivalents: num("data-equivalents"), Risks: doc.Find(`[data-testid="risks"] li`).Length(), Columns: map[string]string{}}
	doc.Find(`td[data-verdict]`).Each(func(_ int, s *goquery.Selection) {
		v := reconcile.Verdict(s.AttrOr("data-verdict", ""))
		switch {
		case !slices.Contains(reconcile.Verdicts(), v):
			t.Errorf("data-verdict %q on %s is not one of the six verdicts", v, s.AttrOr("data-field", ""))
		case v.IsDifference():
			p.CellDifferences++
		case v == reconcile.Equivalent:
			p.CellEquivalents++
		}
	})
	doc.Find(`td[data-state]`).Each(func(_ int, s *goquery.Selection) {
		if st := s.AttrOr("data-state", ""); st != string(reconcile.NotProvided) && st != string(reconcile.NotApplicable) {
			t.Errorf("cell %s carries data-state %q", s.AttrOr("data-field", ""), st)
		}
	})
	p.CellDifferences += doc.Find(`.cmp-cards td.card-difference`).Length()
	doc.Find(`.cmp-grid thead th[data-state]`).Each(func(_ int, s *goquery.Selection) {
		p.Columns[s.AttrOr("data-directory", "")] = s.AttrOr("data-state", "")
	})
	return p
}

// TestCorpusPagesAgree renders every scenario of the corpus as an agent sees it and checks that
// the page summary, the differences-only view, the JSON twin and the audit event's directory
// states all agree with the counts the corpus gives.
func TestCorpusPagesAgree(t *testing.T) {
	for _, sc := range corpus.MustLoad(t) {
		t.Run(sc.Slug, func(t *testing.T) {
			s := newComparisonServerFor(t, sc.Issuer, func() time.Time { return viewNow }, func(string) (d1.Result, error) {
				return sc.Fetch(viewNow)
			})
			target := "/customers/" + sc.Issuer.ID + "/comparison"
			want := pageCounts{Counted: sc.Want.Checked(), Columns: sc.Want.Columns}
			if want.Counted {
				want.Differences, want.Equivalents = sc.Want.Differences, sc.Want.Equivalents
				want.CellDifferences, want.CellEquivalents = sc.Want.Differences, sc.Want.Equivalents
			}
			want.Risks = sc.Want.Risks

			all := s.do(http.MethodGet, target+"?show=all", "agent", "HX-Request", "true")
			if all.Code != http.StatusOK {
				t.Fatalf("status %d", all.Code)
			}
			if diff := cmp.Diff(want, readPage(t, all.Body.String())); diff != "" {
				t.Errorf("%s: all fields (-want +got):\n%s", sc.Name, diff)
			}
			if !want.Counted && strings.Contains(all.Body.String(), "0 risks") {
				t.Errorf("%s: nothing was checked, yet the page reads 0 risks", sc.Name)
			}

			// Differences only shows every difference and nothing else.
			diffOnly := s.do(http.MethodGet, target+"?show=diff", "agent", "HX-Request", "true")
			if diff := cmp.Diff(want, readPage(t, diffOnly.Body.String())); diff != "" {
				t.Errorf("%s: differences only (-want +got):\n%s", sc.Name, diff)
			}
			if want.Counted {
				doc, _ := goquery.NewDocumentFromReader(strings.NewReader(diffOnly.Body.String()))
				doc.Find(`.cmp-grid tbody tr[data-field]`).Each(func(_ int, tr *goquery.Selection) {
					if tr.Find(`td[data-verdict="differs"], td[data-verdict^="missing"], td[data-verdict="equivalent"]`).Length() == 0 {
						t.Errorf("%s: differences only shows %s, which differs nowhere", sc.Name, tr.AttrOr("data-field", ""))
					}
				})
			}

			// The JSON twin counts the same.
			rec := s.do(http.MethodGet, target, "agent", "Accept", "application/json")
			var got reconcile.Comparison
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("JSON twin: %v", err)
			}
			states := map[string]string{}
			for _, col := range got.Columns {
				states[col.Directory] = string(col.State)
			}
			type jsonCounts struct {
				Differences, Equivalents, Risks int
				Columns                         map[string]string
			}
			wantJSON := jsonCounts{sc.Want.Differences, sc.Want.Equivalents, sc.Want.Risks, sc.Want.Columns}
			if diff := cmp.Diff(wantJSON, jsonCounts{got.Summary.Differences, got.Summary.Equivalents, got.Summary.Risks, states}); diff != "" {
				t.Errorf("%s: JSON twin (-want +got):\n%s", sc.Name, diff)
			}
			for _, r := range got.Rows {
				for _, c := range r.Cells {
					if (c.Verdict == "") == (c.State == "") {
						t.Errorf("JSON cell %s@%s has verdict %q and state %q", r.Field, c.Directory, c.Verdict, c.State)
					}
				}
			}

			// Each request wrote one audit event, with the directory states the page shows.
			var wantStates []string
			for _, col := range got.Columns {
				wantStates = append(wantStates, col.Directory+"="+sc.Want.Columns[col.Directory])
			}
			if len(s.auditor.events) != 3 {
				t.Fatalf("%d audit events, want 3", len(s.auditor.events))
			}
			for _, e := range s.auditor.events {
				if got := e.Details["directory_states"]; got != strings.Join(wantStates, ",") {
					t.Errorf("audit directory states = %q, want %q", got, strings.Join(wantStates, ","))
				}
				if got, want := e.Details["d1_stale"], map[bool]string{true: "true"}[sc.Want.Stale]; got != want {
					t.Errorf("audit d1_stale = %q, want %q", got, want)
				}
			}
		})
	}
}
