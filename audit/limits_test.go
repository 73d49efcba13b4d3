package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/sqldialect"
	"ctpdesk/internal/sqlplan"
	"ctpdesk/store"
)

// limitedReveal is a successful reveal by actor sub, limited by limits.
func limitedReveal(sub string, limits ...Limit) Event {
	e := sampleEvent(1)
	e.Actor.Subject = sub
	e.Action = ActionReveal
	e.Details = map[string]string{"field": "phone", "source": "issuer", DetailReason: string(ReasonCustomerVerified)}
	e.Limits = limits
	return e
}

// mustLimited records e and returns the *LimitError it was refused with, nil when allowed.
func mustLimited(t *testing.T, tr *Trail, e Event) *LimitError {
	t.Helper()
	err := tr.Record(context.Background(), e)
	var le *LimitError
	if errors.As(err, &le) {
		if !errors.Is(err, ErrLimited) {
			t.Fatalf("a LimitError that is not ErrLimited: %v", err)
		}
		return le
	}
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return nil
}

// TestLimitRefusesOverTheWindowAndStoresTheRefusal: the fourth reveal within a minute of a
// limit of three is refused, with the wait until the oldest leaves the window, and stored as
// a failure naming the limit; once the window has moved on the actor reveals again.
func TestLimitRefusesOverTheWindowAndStoresTheRefusal(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		clock := &fixedClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		tr := mustTrail(t, db, Options{Now: clock.now})
		perMinute := Limit{Max: 3, Window: time.Minute}
		for i := range 3 {
			if le := mustLimited(t, tr, limitedReveal("agent-a", perMinute)); le != nil {
				t.Fatalf("reveal %d refused: %v", i+1, le)
			}
			clock.t = clock.t.Add(10 * time.Second)
		}
		// 09:00:30: the reveals of 09:00:00, :10 and :20 are within the minute.
		le := mustLimited(t, tr, limitedReveal("agent-a", perMinute))
		if le == nil || le.Limit != perMinute || le.RetryAfter != 30*time.Second {
			t.Fatalf("fourth reveal: %+v, want refused by %v for 30s", le, perMinute)
		}
		// The refusal is what the trail stored, with what the agent asked for and why.
		e := stored(t, tr, 4)
		if e.Outcome != Failure || FormatDetails(e.Details) != "failure=rate_limited field=phone limit=3/60s reason=customer_verified source=issuer" {
			t.Fatalf("refused reveal stored as %s %q", e.Outcome, FormatDetails(e.Details))
		}
		// Refusals do not count: at 09:01:00 the first reveal has left the window.
		clock.t = clock.t.Add(29 * time.Second)
		if le := mustLimited(t, tr, limitedReveal("agent-a", perMinute)); le == nil || le.RetryAfter != time.Second {
			t.Fatalf("at 09:00:59: %+v, want refused for 1s", le)
		}
		clock.t = clock.t.Add(time.Second)
		if le := mustLimited(t, tr, limitedReveal("agent-a", perMinute)); le != nil {
			t.Fatalf("at 09:01:00 the first reveal left the window, yet: %v", le)
		}
		if got := mustVerify(t, tr).String(); got != "verified 6 events up to seq 6" {
			t.Fatalf("Verify = %q", got)
		}
	})
}

func stored(t *testing.T, tr *Trail, seq int64) Event {
	t.Helper()
	page, err := tr.Query(context.Background(), Filter{Before: seq + 1, Limit: 1})
	if err != nil || len(page.Events) != 1 || page.Events[0].Seq != seq {
		t.Fatalf("event %d: %+v, %v", seq, page.Events, err)
	}
	return page.Events[0]
}

// TestLimitPerDayBesidePerMinute: of two limits the one that waits longest is reported; a
// day's ceiling holds though every minute stays under its own.
func TestLimitPerDayBesidePerMinute(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	tr := mustTrail(t, mustSQLite(t), Options{Now: clock.now})
	perMinute, perDay := Limit{Max: 2, Window: time.Minute}, Limit{Max: 5, Window: 24 * time.Hour}
	for i := range 5 {
		if le := mustLimited(t, tr, limitedReveal("agent-a", perMinute, perDay)); le != nil {
			t.Fatalf("reveal %d refused: %v", i+1, le)
		}
		clock.t = clock.t.Add(time.Hour)
	}
	// 14:00: five reveals since 09:00, one in the last minute at most.
	le := mustLimited(t, tr, limitedReveal("agent-a", perMinute, perDay))
	if le == nil || le.Limit != perDay || le.RetryAfter != 19*time.Hour {
		t.Fatalf("sixth reveal of the day: %+v, want refused by %v for 19h", le, perDay)
	}
	if got := FormatDetails(stored(t, tr, 6).Details); !strings.Contains(got, "limit=5/86400s") {
		t.Fatalf("refusal details %q do not name the day's limit", got)
	}
	clock.t = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	if le := mustLimited(t, tr, limitedReveal("agent-a", perMinute, perDay)); le != nil {
		t.Fatalf("a day after the first reveal: %v", le)
	}
}

// TestLimitCountsOnlyTheActorsSuccessesOfTheAction: another subject, the same subject at
// another issuer, other actions and failures leave an actor's count alone.
func TestLimitCountsOnlyTheActorsSuccessesOfTheAction(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	limit := Limit{Max: 1, Window: time.Hour}
	if le := mustLimited(t, tr, limitedReveal("agent-a", limit)); le != nil {
		t.Fatal(le)
	}
	other := limitedReveal("agent-a", limit)
	other.Actor.Issuer = "https://other-idp.example.test"
	view := sampleEvent(2)
	view.Actor.Subject = "agent-b"
	failed := limitedReveal("agent-b")
	failed.Outcome, failed.Details = Failure, map[string]string{DetailFailure: string(RevealUnknownCustomer)}
	for _, e := range []Event{view, failed} {
		if err := tr.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for name, e := range map[string]Event{"another subject": limitedReveal("agent-b", limit), "another issuer": other} {
		if le := mustLimited(t, tr, e); le != nil {
			t.Errorf("%s: %v", name, le)
		}
	}
	if le := mustLimited(t, tr, limitedReveal("agent-a", limit)); le == nil {
		t.Fatal("agent-a's second reveal within the hour was allowed")
	}
}

// TestLimitHoldsUnderConcurrency: thirty concurrent reveals of one actor, through two trails
// on one database (two replicas), get exactly the limit's count through. The check runs
// inside the append that holds the chain head, so no request can count before another's
// success is stored.
func TestLimitHoldsUnderConcurrency(t *testing.T) {
	twoPools(t, limitUnderConcurrency)
}

func limitUnderConcurrency(t *testing.T, a, b *store.DB) {
	key := mustKey(t)
	// The two replicas contend for one database's write lock: waiting for it is not what this
	// test is about, so a busy machine must not turn a fair wait into a lost reveal.
	opts := Options{Key: key, MaxBatch: 8, RecordTimeout: contendedRecordTimeout}
	trails := []*Trail{mustTrail(t, a, opts), mustTrail(t, b, opts)}
	limit := Limit{Max: 5, Window: time.Hour}
	const requests = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed, refused := 0, 0
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := trails[i%2].Record(context.Background(), limitedReveal("agent-a", limit))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				allowed++
			case errors.Is(err, ErrLimited):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if allowed != limit.Max || refused != requests-limit.Max {
		t.Fatalf("%d allowed and %d refused, want %d and %d", allowed, refused, limit.Max, requests-limit.Max)
	}
	var successes int
	if err := a.QueryRow("SELECT COUNT(*) FROM audit_events WHERE outcome = 'success'").Scan(&successes); err != nil {
		t.Fatal(err)
	}
	if successes != limit.Max || mustCount(t, a) != requests {
		t.Fatalf("stored %d successes of %d events, want %d of %d", successes, mustCount(t, a), limit.Max, requests)
	}
	if got := mustVerify(t, trails[0]).String(); got != fmt.Sprintf("verified %d events up to seq %d", requests, requests) {
		t.Fatalf("Verify = %q", got)
	}
}

// TestLimitsRefusedWhenMalformed: a limit that cannot be meant is a programming error, and so
// is a limit on a failure.
func TestLimitsRefusedWhenMalformed(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	failure := limitedReveal("agent-a", Limit{Max: 1, Window: time.Minute})
	failure.Outcome, failure.Details = Failure, map[string]string{DetailFailure: string(RevealNoProfile)}
	// A reveal carries only the details the trail knows, so the room is tried on a search.
	crowded := limitedReveal("agent-a", Limit{Max: 1, Window: time.Minute})
	crowded.Action = ActionSearch
	for i := range maxDetails - 3 {
		crowded.Details[fmt.Sprintf("k%d", i)] = "v"
	}
	for name, e := range map[string]Event{
		"zero count":       limitedReveal("agent-a", Limit{Max: 0, Window: time.Minute}),
		"negative count":   limitedReveal("agent-a", Limit{Max: -1, Window: time.Minute}),
		"huge count":       limitedReveal("agent-a", Limit{Max: MaxLimitCount + 1, Window: time.Minute}),
		"no window":        limitedReveal("agent-a", Limit{Max: 1}),
		"negative window":  limitedReveal("agent-a", Limit{Max: 1, Window: -time.Minute}),
		"fractional":       limitedReveal("agent-a", Limit{Max: 1, Window: 1500 * time.Millisecond}),
		"a year":           limitedReveal("agent-a", Limit{Max: 1, Window: 365 * 24 * time.Hour}),
		"on a failure":     failure,
		"no room to spare": crowded,
	} {
		if err := tr.Record(context.Background(), e); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: Record = %v, want ErrInvalidEvent", name, err)
		}
	}
	if n := mustCount(t, tr.db); n != 0 {
		t.Fatalf("%d events stored from malformed limits", n)
	}
}

// TestLimitQueryUsesItsIndex: the count inside the append reads the actor's recent successes
// through audit_events_actor_limit, not every event the actor ever had.
func TestLimitQueryUsesItsIndex(t *testing.T) {
	db := mustSQLite(t)
	plan, err := sqlplan.Explain(context.Background(), db, sqldialect.SQLite, "SELECT at_ms FROM audit_events WHERE actor_sub = ? AND action = ? AND outcome = ? AND at_ms > ? AND actor_iss = ? AND seq <= ? ORDER BY at_ms DESC LIMIT ?",
		"agent-a", "field.reveal", "success", 0, "https://idp.example.test", 100, 5)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "USING INDEX audit_events_actor_limit (actor_sub=? AND action=? AND outcome=? AND at_ms>?)") ||
		strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("query plan %q does not read the limit index in order", got)
	}
}

// TestLimitCountsEventsOfTheSameBatch: reveals that queued up while a commit was in flight are
// committed together in one transaction, and the earlier ones of that batch count against the
// later ones as if already stored.
func TestLimitCountsEventsOfTheSameBatch(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	limit := Limit{Max: 2, Window: time.Hour}
	var batch []*pending
	for range 6 {
		ev, err := normalize(limitedReveal("agent-a", limit), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &pending{ctx: context.Background(), ev: ev, orig: ev, result: make(chan error, 1)})
	}
	// The batch the writer would take from its queue, committed the way it commits one.
	tr.commitBatch(batch)
	var got []string
	for _, p := range batch {
		err := <-p.result
		switch {
		case err == nil:
			got = append(got, "allowed")
		case errors.Is(err, ErrLimited):
			got = append(got, "refused")
		default:
			t.Fatal(err)
		}
	}
	if want := "allowed allowed refused refused refused refused"; strings.Join(got, " ") != want {
		t.Fatalf("batch outcomes %q, want %q", strings.Join(got, " "), want)
	}
}

// TestLimitIgnoresRowsBeyondTheSealedHead: successes someone inserted past the chain head
// were never written by the trail, so they cannot use up an agent's reveals.
func TestLimitIgnoresRowsBeyondTheSealedHead(t *testing.T) {
	db := mustSQLite(t)
	tr := mustTrail(t, db, Options{})
	mustRecord(t, tr, 3)
	limit := Limit{Max: 1, Window: time.Hour}
	forged, err := normalize(limitedReveal("agent-a"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forged.Seq, forged.PrevHash, forged.Hash = 9, GenesisHash, GenesisHash
	args, err := rowArgs(&forged)
	if err != nil {
		t.Fatal(err)
	}
	newAttacker(t, db).exec("INSERT INTO audit_events ("+eventColumns+") VALUES ("+strings.Repeat("?, ", eventColumnCount-1)+"?)", args...)
	if le := mustLimited(t, tr, limitedReveal("agent-a", limit)); le != nil {
		t.Fatalf("a forged row beyond the head used up the reveal: %v", le)
	}
	if le := mustLimited(t, tr, limitedReveal("agent-a", limit)); le == nil {
		t.Fatal("the second reveal within the hour was allowed")
	}
}
