package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"testing"
	"time"

	"ctpdesk/store"
)

// seedQuery stores 40 events, one a minute from base: actors agent-0..agent-3 (named
// "Agent 0".."Agent 3") in turn, customers C0..C4 in turn, every fifth a failure, every third
// a search, and the 2nd an auditor's read of the trail about C1.
func seedQuery(t *testing.T, db *store.DB, base time.Time) *Trail {
	t.Helper()
	tr := mustTrail(t, db, Options{})
	for i := range 40 {
		e := sampleEvent(i)
		e.Time = base.Add(time.Duration(i) * time.Minute)
		e.Actor.Subject, e.Actor.Name = fmt.Sprintf("agent-%d", i%4), fmt.Sprintf("Agent %d", i%4)
		e.CustomerID = fmt.Sprintf("C%d", i%5)
		if i%5 == 0 {
			e.Outcome = Failure
		}
		if i%3 == 0 {
			e.Action = ActionSearch
		}
		if i == 1 {
			e.Action = ActionAuditRead
		}
		if err := tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestQueryFilters(t *testing.T) {
	base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := seedQuery(t, db, base)
		cases := []struct {
			name   string
			f      Filter
			want   int
			accept func(Event) bool
		}{
			{"all", Filter{Limit: 500}, 40, func(Event) bool { return true }},
			{"actor subject", Filter{Actor: "agent-1"}, 10, func(e Event) bool { return e.Actor.Subject == "agent-1" }},
			{"actor subject, any case", Filter{Actor: "AGENT-1"}, 10, func(e Event) bool { return e.Actor.Subject == "agent-1" }},
			{"actor name", Filter{Actor: "Agent 2"}, 10, func(e Event) bool { return e.Actor.Name == "Agent 2" }},
			{"actor name start", Filter{Actor: "agent 2"}, 10, func(e Event) bool { return e.Actor.Name == "Agent 2" }},
			{"actor name word", Filter{Actor: "3"}, 10, func(e Event) bool { return e.Actor.Name == "Agent 3" }},
			{"actor prefix of everyone", Filter{Actor: "age", Limit: 500}, 40, func(Event) bool { return true }},
			{"actor matching nobody", Filter{Actor: "gent"}, 0, nil},
			{"actor and customer", Filter{Actor: "agent-2", CustomerID: "C2"}, 2, func(e Event) bool {
				return e.Actor.Subject == "agent-2" && e.CustomerID == "C2"
			}},
			{"customer", Filter{CustomerID: "C3"}, 8, func(e Event) bool { return e.CustomerID == "C3" }},
			{"action", Filter{Action: ActionSearch}, 14, func(e Event) bool { return e.Action == ActionSearch }},
			{"outcome", Filter{Outcome: Failure}, 8, func(e Event) bool { return e.Outcome == Failure }},
			{"time range", Filter{From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute)}, 10,
				func(e Event) bool {
					return !e.Time.Before(base.Add(10*time.Minute)) && e.Time.Before(base.Add(20*time.Minute))
				}},
			{"combined", Filter{CustomerID: "C0", Outcome: Failure}, 8, func(e Event) bool { return e.CustomerID == "C0" }},
			{"without trail reads", Filter{CustomerID: "C1", SkipTrailReads: true}, 7, func(e Event) bool {
				return e.CustomerID == "C1" && e.Action != ActionAuditRead
			}},
			{"nothing", Filter{CustomerID: "C404"}, 0, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				page, err := tr.Query(context.Background(), tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Events) != tc.want {
					t.Fatalf("%d events, want %d", len(page.Events), tc.want)
				}
				for i, e := range page.Events {
					if !tc.accept(e) {
						t.Errorf("event %d does not match the filter: %+v", e.Seq, e)
					}
					if i > 0 && e.Seq >= page.Events[i-1].Seq {
						t.Errorf("not newest first: %d after %d", e.Seq, page.Events[i-1].Seq)
					}
				}
			})
		}
	})
}

func TestQueryKeysetPagination(t *testing.T) {
	tr := seedQuery(t, mustSQLite(t), time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	seen := map[int64]bool{}
	f := Filter{Limit: 7}
	pages := 0
	for {
		page, err := tr.Query(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page.Events {
			if seen[e.Seq] {
				t.Fatalf("seq %d on two pages", e.Seq)
			}
			seen[e.Seq] = true
		}
		if page.NextBefore == 0 {
			break
		}
		f.Before = page.NextBefore
	}
	if len(seen) != 40 || pages != 6 {
		t.Fatalf("%d events over %d pages, want 40 over 6", len(seen), pages)
	}
}

// TestQueryActorLimits: a filter standing for too many people is refused, and a trail with
// more distinct actors than the prefix lookup lists still finds an exact subject or name.
func TestQueryActorLimits(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := seedQuery(t, db, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		defer func(m, d int) { maxActorMatches, maxDistinctActors = m, d }(maxActorMatches, maxDistinctActors)
		maxActorMatches = 3
		if _, err := tr.Query(context.Background(), Filter{Actor: "agent"}); !errors.Is(err, ErrVagueActor) || !errors.Is(err, ErrBadFilter) {
			t.Errorf("an actor filter matching 4 subjects and 4 names with a limit of 3 = %v, want ErrVagueActor", err)
		}
		var buf bytes.Buffer
		if _, err := tr.ExportCSV(context.Background(), &buf, Filter{Actor: "agent"}); !errors.Is(err, ErrVagueActor) || buf.Len() != 0 {
			t.Errorf("export with a vague actor = %v after %d bytes, want ErrVagueActor before any", err, buf.Len())
		}
		maxActorMatches, maxDistinctActors = 500, 2
		for _, tc := range []struct {
			actor string
			want  int
		}{{"agent-1", 10}, {"Agent 2", 10}, {"agent", 0}, {"AGENT-1", 0}} {
			page, err := tr.Query(context.Background(), Filter{Actor: tc.actor})
			if err != nil || len(page.Events) != tc.want {
				t.Errorf("past the distinct limit, actor %q: %d events, %v; want %d (exact match only)", tc.actor, len(page.Events), err, tc.want)
			}
		}
	})
}

func TestRecentActors(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		tr := seedQuery(t, db, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		got, err := tr.RecentActors(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		// The 40th event (i = 39) is agent-3's, then agent-2, agent-1.
		var subs []string
		for _, a := range got {
			subs = append(subs, a.Subject+"/"+a.Name)
		}
		if want := []string{"agent-3/Agent 3", "agent-2/Agent 2", "agent-1/Agent 1"}; fmt.Sprint(subs) != fmt.Sprint(want) {
			t.Errorf("RecentActors = %v, want %v", subs, want)
		}
	})
}

func TestActorMatches(t *testing.T) {
	for _, tc := range []struct {
		filter, value string
		words, want   bool
	}{
		{"agent", "Alex Agent", true, true},
		{"alex", "Alex Agent", true, true},
		{"ALEX AG", "Alex Agent", true, true},
		{"agent", "Alex Agent", false, false},
		{"devidp-ag", "devidp-agent", false, true},
		{"ag", "devidp-agent", false, false},
		{"agent", "agent@devidp.invalid", true, true},
		{"devidp", "agent@devidp.invalid", true, true},
		{"zoë", "Zoë Ashworth", true, true},
		{"ZOË", "zoë ashworth", true, true},
		{"", "anyone", true, false},
		{"   ", "anyone", true, false},
		{"x", "", true, false},
	} {
		if got := ActorMatches(tc.filter, tc.value, tc.words); got != tc.want {
			t.Errorf("ActorMatches(%q, %q, %v) = %v, want %v", tc.filter, tc.value, tc.words, got, tc.want)
		}
	}
}

func TestQueryRejectsBadFilters(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	now := time.Now()
	for name, f := range map[string]Filter{
		"action":    {Action: "drop table"},
		"outcome":   {Outcome: "x"},
		"range":     {From: now, To: now.Add(-time.Hour)},
		"empty":     {From: now, To: now},
		"cursor":    {Before: -1},
		"limit":     {Limit: -5},
		"too long":  {Actor: string(make([]byte, 1000))},
		"not UTF-8": {Actor: "\xff\xfe"},
	} {
		if _, err := tr.Query(context.Background(), f); !errors.Is(err, ErrBadFilter) {
			t.Errorf("%s: Query = %v, want ErrBadFilter", name, err)
		}
	}
	page, err := tr.Query(context.Background(), Filter{Limit: 1 << 30})
	if err != nil || len(page.Events) != 0 {
		t.Errorf("a huge limit must be capped, not fail: %v", err)
	}
}

func TestExportCSV(t *testing.T) {
	db := mustSQLite(t)
	tr := seedQuery(t, db, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	e := sampleEvent(99)
	e.UserAgent = "=HYPERLINK(\"http://evil.test\")"
	e.CustomerID = "C3"
	if err := tr.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := tr.ExportCSV(context.Background(), &buf, Filter{CustomerID: "C3", Limit: 1, Before: 5})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if n != 9 || len(rows) != 10 {
		t.Fatalf("exported %d rows (%d lines), want 9 rows and a header", n, len(rows))
	}
	if fmt.Sprint(rows[0]) != fmt.Sprint(CSVHeader) {
		t.Errorf("header = %v", rows[0])
	}
	if got := rows[1][11]; got != "'=HYPERLINK(\"http://evil.test\")" {
		t.Errorf("user agent cell = %q, want the formula defused", got)
	}
	if got := rows[1][8]; got != "C3" {
		t.Errorf("customer cell = %q", got)
	}
}

// TestExportCSVSaysWhenTruncated: an export that hits the row cap ends with a line that says
// so, and one that fits has no such line.
func TestExportCSVSaysWhenTruncated(t *testing.T) {
	db := mustSQLite(t)
	tr := seedQuery(t, db, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	defer func(old int) { exportRowLimit = old }(exportRowLimit)
	for _, tc := range []struct {
		limit     int
		truncated bool
	}{{3, true}, {1000, false}} {
		exportRowLimit = tc.limit
		var buf bytes.Buffer
		n, err := tr.ExportCSV(context.Background(), &buf, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		last := rows[len(rows)-1][0]
		if got := last == TruncatedMarker; got != tc.truncated {
			t.Errorf("limit %d: last line %q, truncated marker = %v, want %v", tc.limit, last, got, tc.truncated)
		}
		if tc.truncated && n != tc.limit {
			t.Errorf("limit %d: wrote %d rows", tc.limit, n)
		}
	}
}
