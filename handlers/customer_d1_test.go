package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/static"

	"github.com/labstack/echo/v4"
)

// hangingD1 is a D1 that never answers: each call signals that it started, then waits until
// its request is cancelled or the test releases it.
type hangingD1 struct {
	started chan string
	release chan struct{}
}

func (h *hangingD1) GetProfiles(ctx context.Context, consumerID string, _ d1.FetchOptions) (d1.Result, error) {
	h.started <- consumerID
	select {
	case <-ctx.Done():
		return d1.Result{}, ctx.Err()
	case <-h.release:
		return d1.Result{}, d1.ErrUnavailable
	}
}

// TestCustomerPageDoesNotWaitForD1: with D1 hanging, GET /customers/{id} still answers, and
// its one response already holds the issuer record and the placeholder that loads the
// comparison afterwards; D1 is asked only by that later comparison request. The test waits on
// events (the page's response, D1's first call), never on a clock.
func TestCustomerPageDoesNotWaitForD1(t *testing.T) {
	assets, err := static.Load("/static")
	if err != nil {
		t.Fatal(err)
	}
	dir := &hangingD1{started: make(chan string, 4), release: make(chan struct{})}
	t.Cleanup(func() { close(dir.release) })
	h := mustNew(t, Deps{Logger: slog.New(slog.DiscardHandler), Assets: assets, Version: "test",
		Customers: mustIssuerDB(t, 20), Auditor: &searchAuditor{}, Profiles: dir})
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := auth.User{Issuer: "https://idp.test", Subject: "sub-agent", Name: "agent", Roles: []auth.Role{auth.RoleAgent}}
			c.SetRequest(c.Request().WithContext(auth.WithUser(c.Request().Context(), u)))
			return next(c)
		}
	})
	h.register(e, nil)
	want := issuerdb.NewGenerator(testPortfolioSeed).Customer(3)

	page := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/customers/"+want.ID, nil))
		page <- w
	}()
	var rec *httptest.ResponseRecorder
	select {
	case rec = <-page:
	case id := <-dir.started:
		t.Fatalf("the customer page asked D1 about %s before answering: the issuer half waits for D1", id)
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("customer page with D1 hanging: %d\n%s", rec.Code, rec.Body)
	}
	doc := mustDoc(t, rec)
	if doc.Find(`#issuer-record[data-customer-id="`+want.ID+`"] [data-issuer-field=consumerId]`).Text() != want.ConsumerID {
		t.Errorf("the first response does not hold the issuer record of %s", want.ID)
	}
	placeholder := doc.Find("section#comparison")
	if placeholder.AttrOr("hx-get", "") != "/customers/"+want.ID+"/comparison" || placeholder.AttrOr("hx-trigger", "") != "load" {
		t.Errorf("no deferred comparison placeholder in the page")
	}
	if n := doc.Find("[data-directory]").Length(); n != 0 {
		t.Errorf("the page already holds %d directory cells: it rendered the comparison itself", n)
	}
	select {
	case id := <-dir.started:
		t.Fatalf("D1 was asked about %s while the page rendered", id)
	default:
	}

	// The comparison is what asks D1, in a request of its own.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/customers/"+want.ID+"/comparison", nil)
		r.Header.Set("HX-Request", "true")
		e.ServeHTTP(httptest.NewRecorder(), r)
	}()
	if id := <-dir.started; id != want.ConsumerID {
		t.Errorf("the comparison asked D1 about %q, want %q", id, want.ConsumerID)
	}
	cancel()
	<-done
}
