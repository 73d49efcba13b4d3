package issuerdb

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSearchWaitsForATurn: with Options.Searches searches running, one more waits and runs
// once a turn is given back, counted meanwhile by SearchesWaiting; one whose context ends while
// it waits returns the context's error without having run. Unset, the number is
// DefaultSearches.
func TestSearchWaitsForATurn(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, 50, Options{Searches: 2})
			if cap(db.turns) != 2 {
				t.Fatalf("Searches 2 gave %d turns", cap(db.turns))
			}
			id := CustomerID(7)
			q := Query{Text: id}
			// The test holds both turns, as two long searches would.
			db.turns <- struct{}{}
			db.turns <- struct{}{}

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if page, err := db.Search(ctx, q); !errors.Is(err, errNoTurn) || !errors.Is(err, context.Canceled) || len(page.Customers) != 0 {
				t.Errorf("search without a turn and a context that ended: %d rows, %v; want none and the context's error", len(page.Customers), err)
			}
			ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if _, err := db.Search(ctx, q); !errors.Is(err, errNoTurn) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("search waiting past its deadline: %v; want the deadline's error", err)
			}

			type result struct {
				page Page
				err  error
			}
			done := make(chan result, 1)
			go func() {
				page, err := db.Search(context.Background(), q)
				done <- result{page, err}
			}()
			// The searches that gave up waiting are no longer counted; the third one is, once it
			// waits.
			for db.SearchesWaiting() != 1 {
				select {
				case r := <-done:
					t.Fatalf("a search ran while every turn was taken: %d rows, %v", len(r.page.Customers), r.err)
				case <-time.After(time.Millisecond):
				}
			}
			select {
			case r := <-done:
				t.Fatalf("a search ran while every turn was taken: %d rows, %v", len(r.page.Customers), r.err)
			case <-time.After(200 * time.Millisecond):
			}
			<-db.turns
			r := <-done
			if r.err != nil || len(r.page.Customers) != 1 || r.page.Customers[0].ID != id {
				t.Fatalf("search once a turn was given back: %+v, %v", r.page.Customers, r.err)
			}
			// It gave its turn back: the test's other one is the only one taken.
			if len(db.turns) != 1 || db.SearchesWaiting() != 0 {
				t.Errorf("%d turns taken and %d searches waiting after the search, want 1 and 0", len(db.turns), db.SearchesWaiting())
			}
			<-db.turns
		})
	}
	t.Run("default", func(t *testing.T) {
		db := mustSeeded(t, "sqlite:"+t.TempDir()+"/issuer.db", 5, Options{})
		if cap(db.turns) != DefaultSearches() || DefaultSearches() < 2 {
			t.Errorf("Options{} gave %d turns, DefaultSearches %d", cap(db.turns), DefaultSearches())
		}
	})
}
