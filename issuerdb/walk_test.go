package issuerdb

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A keyset walk visits every customer with a consumer id exactly once, in id order, and the
// page reader returns the same customers, cards included, as Get does.
func TestWalkVisitsThePortfolioOnce(t *testing.T) {
	const n = 700
	want := portfolio(n)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, n, Options{})
			ctx := context.Background()
			var seen []string
			after := ""
			for {
				ids, err := db.CustomerIDsAfter(ctx, after, 256, WalkFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) == 0 {
					break
				}
				page, err := db.CustomersBetween(ctx, after, ids[len(ids)-1], WalkFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if len(page) != len(ids) {
					t.Fatalf("page after %q: %d customers for %d ids", after, len(page), len(ids))
				}
				for i, c := range page {
					if c.ID != ids[i] {
						t.Fatalf("page order: %s at %d, want %s", c.ID, i, ids[i])
					}
				}
				seen = append(seen, ids...)
				after = ids[len(ids)-1]
			}
			if len(seen) != n || !slices.IsSorted(seen) {
				t.Fatalf("walk saw %d ids (sorted %v), want %d", len(seen), slices.IsSorted(seen), n)
			}
			got, err := db.CustomersBetween(ctx, "", want[3].ID, WalkFilter{FromID: want[3].ID})
			if err != nil || len(got) != 1 {
				t.Fatalf("one-customer range: %d, %v", len(got), err)
			}
			full, err := db.Get(ctx, want[3].ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(full, got[0]); diff != "" {
				t.Errorf("walk page customer differs from Get (-get +walk):\n%s", diff)
			}
		})
	}
}

func TestWalkFilters(t *testing.T) {
	const n = 300
	all := portfolio(n)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustSeeded(t, b.url, n, Options{})
			ctx := context.Background()
			count := func(f WalkFilter) int {
				ids, err := db.CustomerIDsAfter(ctx, "", MaxWalkPage, f)
				if err != nil {
					t.Fatal(err)
				}
				return len(ids)
			}
			if got := count(WalkFilter{FromID: all[10].ID, ToID: all[19].ID}); got != 10 {
				t.Errorf("id range: %d customers, want 10", got)
			}
			visa := 0
			var newest time.Time
			for _, c := range all {
				if slices.ContainsFunc(c.Cards, func(d Card) bool { return d.Scheme == SchemeVisa }) {
					visa++
				}
				if c.UpdatedAt.After(newest) {
					newest = c.UpdatedAt
				}
			}
			if got := count(WalkFilter{Directory: SchemeVisa}); got != visa {
				t.Errorf("directory VISA: %d customers, want %d", got, visa)
			}
			changed := 0
			for _, c := range all {
				if !c.UpdatedAt.Before(newest) {
					changed++
				}
			}
			if got := count(WalkFilter{ChangedSince: newest}); got != changed || changed == 0 {
				t.Errorf("changed since %s: %d customers, want %d", newest, got, changed)
			}
		})
	}
}

func TestWalkRefusesHostileInput(t *testing.T) {
	db := mustSeeded(t, backends(t)[0].url, 10, Options{})
	ctx := context.Background()
	for _, f := range []WalkFilter{
		{FromID: "CU9", ToID: "CU1"},
		{Directory: "VISA\x00"},
		{FromID: string([]byte{0xff, 0xfe})},
		{ToID: string(make([]byte, 65))},
	} {
		if _, err := db.CustomerIDsAfter(ctx, "", 10, f); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("filter %+v: %v, want ErrInvalidQuery", f, err)
		}
	}
	for _, limit := range []int{0, -1, MaxWalkPage + 1} {
		if _, err := db.CustomerIDsAfter(ctx, "", limit, WalkFilter{}); err == nil {
			t.Errorf("limit %d accepted", limit)
		}
	}
}
