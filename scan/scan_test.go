package scan

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
	"ctpdesk/store"
)

// expectedRisks are the risk kinds the sandbox planted in a customer's profiles, by its own
// account of what it changed (its Derivation), not by reconcile's.
func expectedRisks(dv d1sandbox.Derivation) []string {
	switch dv.Risk {
	case d1sandbox.RiskClosedCardActive:
		return []string{reconcile.KindCardBlockedButEnrolled}
	case d1sandbox.RiskUnknownCard:
		return []string{reconcile.KindCardUnknownToIssuer}
	case d1sandbox.RiskContactTakeover:
		return []string{reconcile.KindContactTakeover}
	}
	return nil
}

// expectsDataQuality says, from the derivation, whether the customer has a difference an agent
// must look at: a directory profile the sandbox sent without a card (no-card scenario, an
// extra directory, or every card of the scheme lost or closed), or a planted change that is
// more than a format (email, address line moved, expiry, contact takeover).
func expectsDataQuality(profiles []d1.Profile, dv d1sandbox.Derivation) bool {
	for _, p := range profiles {
		if len(p.Cards) == 0 {
			return true
		}
	}
	for _, ch := range dv.Changes {
		isName := ch.Field == d1sandbox.FieldFirstName || ch.Field == d1sandbox.FieldMiddleName || ch.Field == d1sandbox.FieldLastName
		isNewCard := strings.HasPrefix(ch.Field, "card:") && strings.Count(ch.Field, ":") == 1
		isStatus := strings.HasSuffix(ch.Field, ":status")
		if !ch.Equivalent && !isName && !isNewCard && !isStatus {
			return true
		}
	}
	return false
}

// storedRow is what a test reads back of one customer's stored result.
type storedRow struct {
	outcome, kinds, directories, fingerprints string
	risks                                     int
}

func storedRows(t testing.TB, db *store.DB, scanID int64) map[string]storedRow {
	t.Helper()
	rows, err := db.Query(db.Rebind("SELECT customer_id, outcome, kinds, directories, fingerprints, risks FROM scan_results WHERE scan_id = ?"), scanID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]storedRow{}
	for rows.Next() {
		var id string
		var r storedRow
		if err := rows.Scan(&id, &r.outcome, &r.kinds, &r.directories, &r.fingerprints, &r.risks); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	return out
}

// TestScanFindsWhatTheSandboxPlanted scans a seeded portfolio through the D1 sandbox over HTTP
// and checks, customer by customer, that the stored risks are exactly those the sandbox says it
// planted, that data-quality findings are there exactly where it planted a real difference,
// that the stored kinds are those of a direct comparison, and that the totals add up.
func TestScanFindsWhatTheSandboxPlanted(t *testing.T) {
	const n = 400
	w := newWorld(t, n)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := mustStore(t, b.url)
			s := mustScanner(t, db, w, nil)
			ctx := context.Background()
			run, err := s.StartScan(ctx, StartRequest{Trigger: TriggerCommand, By: "test"})
			if err != nil {
				t.Fatal(err)
			}
			p := waitFor(t, s, run.ID, time.Minute, finished)
			if p.Done != n || p.Total != n || p.Compared+p.NotRegistered != n || p.Unavailable != 0 {
				t.Fatalf("totals: done %d total %d compared %d not registered %d unavailable %d, want %d compared",
					p.Done, p.Total, p.Compared, p.NotRegistered, p.Unavailable, n)
			}
			stored := storedRows(t, db, run.ID)
			gen := issuerdb.NewGenerator(testSeed)
			kinds := map[string]int{}
			withRisks, withDQ := 0, 0
			for i := range n {
				c := gen.Customer(i)
				profiles, dv := d1sandbox.Derive(testSeed, c)
				got, ok := stored[c.ID]
				if !ok {
					t.Fatalf("%s not stored", c.ID)
				}
				var risks, dq []string
				for _, k := range strings.Split(got.kinds, ",") {
					switch {
					case k == "":
					case slices.Contains(RiskKinds(), k):
						risks = append(risks, k)
					default:
						dq = append(dq, k)
					}
				}
				if want := expectedRisks(dv); !slices.Equal(risks, want) {
					t.Errorf("%s (%s %s): risks %v, want %v", c.ID, dv.Kind, dv.Risk, risks, want)
				}
				if want := expectsDataQuality(profiles, dv); (len(dq) > 0) != want {
					t.Errorf("%s (%s, changes %v, extra %q): data-quality kinds %v, want some: %v", c.ID, dv.Kind, dv.Changes, dv.ExtraDirectory, dq, want)
				}
				direct := outcomeOf(reconcile.Compare(c, d1.Result{Profiles: profiles}, reconcile.Options{}), c, s.fp)
				if want := strings.Join(findingKinds(direct), ","); got.kinds != want {
					t.Errorf("%s: stored kinds %q, direct comparison %q", c.ID, got.kinds, want)
				}
				if got.fingerprints != encodeFingerprints(direct.Fingerprints) {
					t.Errorf("%s: stored fingerprints differ from the direct comparison's", c.ID)
				}
				kinds[string(dv.Kind)]++
				if len(risks) > 0 {
					withRisks++
				}
				if len(dq) > 0 {
					withDQ++
				}
			}
			if p.WithRisks != withRisks {
				t.Errorf("summary: %d customers with risks, counted %d", p.WithRisks, withRisks)
			}
			for _, k := range []d1sandbox.Kind{d1sandbox.KindMatch, d1sandbox.KindDiffers, d1sandbox.KindNoCard, d1sandbox.KindNotEnrolled, d1sandbox.KindRisk} {
				if kinds[string(k)] == 0 {
					t.Errorf("the portfolio of %d has no %s customer: the test covers less than it claims (%v)", n, k, kinds)
				}
			}
			page, err := s.Worklist(ctx, WorklistQuery{Viewer: ViewerFraud, Limit: MaxWorklistPage})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != countWithFindings(stored) {
				t.Errorf("worklist holds %d customers, the scan found findings on %d", page.Total, countWithFindings(stored))
			}
			if withRisks == 0 || withDQ == 0 {
				t.Errorf("portfolio planted %d risks and %d data-quality customers: too few to test", withRisks, withDQ)
			}
			if w.sandbox.Stats().TokenRequests > 2 {
				t.Errorf("%d token requests for one scan: the client's token is not reused", w.sandbox.Stats().TokenRequests)
			}
		})
	}
}

func countWithFindings(rows map[string]storedRow) int {
	n := 0
	for _, r := range rows {
		if r.kinds != "" {
			n++
		}
	}
	return n
}
