package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ctpdesk/store"

	"github.com/google/go-cmp/cmp"
)

func TestRecentCustomers(t *testing.T) {
	base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := mustTrail(t, db, Options{})
		const iss, other = "https://idp.example.test", "https://other-idp.example.test"
		n := 0
		record := func(issuer, subject string, action Action, outcome Outcome, customer string) {
			t.Helper()
			e := sampleEvent(n)
			e.Time = base.Add(time.Duration(n) * time.Minute)
			e.Actor.Issuer, e.Actor.Subject = issuer, subject
			e.Action, e.Outcome, e.CustomerID = action, outcome, customer
			n++
			if err := tr.Record(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		record(iss, "agent-1", ActionCustomerView, Success, "C1")   // 09:00
		record(iss, "agent-1", ActionCustomerView, Success, "C2")   // 09:01
		record(iss, "agent-1", ActionComparison, Success, "C3")     // not a view of the page
		record(iss, "agent-1", ActionCustomerView, Failure, "C4")   // not found: nothing was shown
		record(iss, "agent-2", ActionCustomerView, Success, "C5")   // someone else
		record(other, "agent-1", ActionCustomerView, Success, "C6") // the same subject at another IdP
		record(iss, "agent-1", ActionCustomerView, Success, "C1")   // 09:06, opened again
		record(iss, "agent-1", ActionSearch, Success, "")           // no customer
		record(iss, "agent-1", ActionCustomerView, Success, "C7")   // 09:08
		record(iss, "agent-1", ActionCustomerView, Success, "C2")   // 09:09, opened again
		at := func(minute int) time.Time { return base.Add(time.Duration(minute) * time.Minute) }

		got, err := tr.RecentCustomers(context.Background(), iss, "agent-1", 8)
		if err != nil {
			t.Fatal(err)
		}
		want := []RecentCustomer{{"C2", at(9)}, {"C7", at(8)}, {"C1", at(6)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("recent customers of agent-1 (-want +got):\n%s", diff)
		}
		got, err = tr.RecentCustomers(context.Background(), iss, "agent-1", 2)
		if err != nil || len(got) != 2 || got[1].CustomerID != "C7" {
			t.Errorf("limit 2: %v %+v", err, got)
		}
		got, err = tr.RecentCustomers(context.Background(), iss, "nobody", 8)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("a user with no views: %v %#v, want an empty list", err, got)
		}
	})
}

func TestRecentCustomersReadsOnlyTheLatestViews(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	e := sampleEvent(0)
	e.CustomerID = "C-OLD"
	if err := tr.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	for range recentScanEvents {
		e := sampleEvent(0)
		e.CustomerID = "C-NEW"
		if err := tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tr.RecentCustomers(context.Background(), e.Actor.Issuer, e.Actor.Subject, MaxRecentCustomers)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"C-NEW"}, customerIDs(got)); diff != "" {
		t.Errorf("a customer behind the last %d views is listed (-want +got):\n%s", recentScanEvents, diff)
	}
}

func TestRecentCustomersRefusesBadInput(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	for _, tc := range []struct {
		name     string
		iss, sub string
		limit    int
	}{
		{"no issuer", "", "agent-1", 8},
		{"no subject", "https://idp.example.test", "", 8},
		{"zero limit", "https://idp.example.test", "agent-1", 0},
		{"limit too big", "https://idp.example.test", "agent-1", MaxRecentCustomers + 1},
		{"subject too long", "https://idp.example.test", strings.Repeat("a", maxSubject+1), 8},
	} {
		if _, err := tr.RecentCustomers(context.Background(), tc.iss, tc.sub, tc.limit); !errors.Is(err, ErrBadFilter) {
			t.Errorf("%s: err %v, want ErrBadFilter", tc.name, err)
		}
	}
}

func customerIDs(rs []RecentCustomer) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.CustomerID
	}
	return out
}
