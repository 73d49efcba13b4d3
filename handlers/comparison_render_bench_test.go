package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"ctpdesk/reconcile"
	"ctpdesk/reconcile/corpus"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// renderScenario is the corpus scenario the render benchmark draws: two directories, six
// fields drifted and two cards, the fullest comparison an agent meets day to day.
const renderScenario = "27-drift-six-fields-two-cards"

// BenchmarkComparisonRender measures the templ render of the comparison fragment alone, into
// io.Discard, for a corpus scenario as an agent sees it (masked, with the Reveal controls)
// and as a fraud analyst sees it (unmasked, all fields). The view model is built once, before
// the loop: this is what the templates cost per request, apart from the comparison and the
// model. The view model lives in this package, hence the benchmark; what it measures is
// views.Comparison.
func BenchmarkComparisonRender(b *testing.B) {
	var sc corpus.Scenario
	for _, s := range corpus.MustLoad(b) {
		if s.Slug == renderScenario {
			sc = s
		}
	}
	if sc.Slug == "" {
		b.Fatalf("no corpus scenario %s", renderScenario)
	}
	res, err := sc.Fetch(viewNow)
	cmp := reconcile.CompareAnswer(sc.Issuer, res, err, reconcile.Options{Now: viewNow})
	if len(cmp.Columns) == 0 {
		b.Fatalf("%s compared no directory", renderScenario)
	}
	req := httptest.NewRequest("GET", "/customers/"+sc.Issuer.ID+"/comparison", nil)
	c := echo.New().NewContext(req, httptest.NewRecorder())
	agent := func(source, field, masked string) *views.RevealForm {
		if masked == "" {
			return nil
		}
		f := RevealForm(c, "comparison", sc.Issuer.ID, source, field, masked)
		return &f
	}
	for _, tc := range []struct {
		name string
		opts comparisonViewOptions
	}{
		{"agent-diff-only", comparisonViewOptions{DiffOnly: true, CSRFToken: "tok", Reveal: agent}},
		{"fraud-all-fields", comparisonViewOptions{Unmasked: true, CSRFToken: "tok"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			view := views.Comparison(buildComparisonView(cmp, tc.opts))
			w := &countingWriter{}
			if err := view.Render(context.Background(), w); err != nil || w.n == 0 {
				b.Fatalf("render: %d bytes, %v", w.n, err)
			}
			b.SetBytes(int64(w.n))
			b.ReportAllocs()
			for b.Loop() {
				if err := view.Render(context.Background(), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
