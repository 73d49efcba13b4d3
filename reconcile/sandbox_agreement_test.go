package reconcile_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
)

// TestAgreesWithSandboxDerivation compares every customer of a generated portfolio with the
// profiles the D1 sandbox derives for it, and checks that the verdicts are exactly the
// deliberate changes the sandbox reports (its Derivation), nothing more and nothing less.
// The expectations come from the sandbox's own account of what it changed, not from reconcile.
func TestAgreesWithSandboxDerivation(t *testing.T) {
	const seed, customers = 7, 3000
	g := issuerdb.NewGenerator(seed)
	now := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	kinds := map[string]int{}
	for i := range customers {
		c := g.Customer(i)
		profiles, dv := d1sandbox.Derive(seed, c)
		kinds[string(dv.Kind)+"/"+string(dv.Risk)]++
		got := reconcile.Compare(c, d1.Result{Profiles: profiles, FetchedAt: now}, reconcile.Options{Now: now})
		want := ExpectedFromDerivation(c, profiles, dv)
		if problems := diffVerdicts(got, want); len(problems) > 0 {
			t.Errorf("%s (%s %s, changes %v):\n  %s", c.ID, dv.Kind, dv.Risk, dv.Changes, strings.Join(problems, "\n  "))
			if t.Failed() && len(problems) > 20 {
				t.FailNow()
			}
		}
		var risks []string
		for _, f := range got.Findings {
			if f.Severity == reconcile.SeverityRisk {
				risks = append(risks, f.Kind)
			}
		}
		if w := expectedRisks(dv); !slices.Equal(risks, w) {
			t.Errorf("%s (%s %s): risks %v, want %v", c.ID, dv.Kind, dv.Risk, risks, w)
		}
	}
	for _, k := range []string{"match/", "differs/", "no-card/", "not-enrolled/", "risk/closed-card-active", "risk/unknown-card", "risk/contact-takeover"} {
		if kinds[k] == 0 {
			t.Errorf("portfolio of %d has no %s customer: the test covers less than it claims (%v)", customers, k, kinds)
		}
	}
}

// expectedRisks are the risk kinds a derivation must raise.
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

// ExpectedFromDerivation computes, from the issuer record, the sandbox's profiles and its
// account of its changes, the verdict of every cell in a directory that holds a profile, keyed
// "field@DIRECTORY". Cells of directories without a profile are left out (their column state
// says it all).
func ExpectedFromDerivation(c issuerdb.Customer, profiles []d1.Profile, dv d1sandbox.Derivation) map[string]string {
	want := map[string]string{}
	for _, p := range profiles {
		dir := p.Directory
		for _, f := range []string{"firstName", "middleName", "lastName", "email", "phone", "language"} {
			want[f+"@"+dir] = "match"
		}
		inDir := map[string]bool{}
		for _, dc := range p.Cards {
			inDir[dc.ID] = true
		}
		for _, card := range c.Cards {
			if card.Scheme != dir && !inDir[card.ID] {
				continue
			}
			v := "match"
			if !inDir[card.ID] {
				v = "missing-in-directory"
			}
			for _, k := range reconcile.CardFieldKinds() {
				want[reconcile.CardField(card.ID, k)+"@"+dir] = v
			}
		}
	}
	for _, ch := range dv.Changes {
		at := "@" + ch.Directory
		switch {
		case ch.Field == d1sandbox.FieldEmail:
			want[ch.Field+at] = "differs"
		case ch.Field == d1sandbox.FieldPhone && ch.Equivalent:
			want[ch.Field+at] = "equivalent"
		case ch.Field == d1sandbox.FieldPhone:
			want[ch.Field+at] = "differs"
		case ch.Field == d1sandbox.FieldFirstName || ch.Field == d1sandbox.FieldMiddleName || ch.Field == d1sandbox.FieldLastName:
			// The sandbox's only name change is dropping diacritics.
			want[ch.Field+at] = "equivalent"
		case strings.HasSuffix(ch.Field, ":billingAddress"):
			id := strings.TrimSuffix(strings.TrimPrefix(ch.Field, "card:"), ":billingAddress")
			markAddressMove(want, c, id, ch.Directory)
		case strings.HasSuffix(ch.Field, ":expiry"), strings.HasSuffix(ch.Field, ":status"):
			want[ch.Field+at] = "differs"
		case strings.HasPrefix(ch.Field, "card:") && strings.Count(ch.Field, ":") == 1:
			id := strings.TrimPrefix(ch.Field, "card:")
			for _, k := range reconcile.CardFieldKinds() {
				want[reconcile.CardField(id, k)+at] = "missing-at-issuer"
			}
		default:
			panic(fmt.Sprintf("unknown sandbox change %+v", ch))
		}
	}
	return want
}

// markAddressMove sets the verdicts of line 1 and 2 after the sandbox moved line 1 to line 2
// (or swapped them).
func markAddressMove(want map[string]string, c issuerdb.Customer, cardID, dir string) {
	for _, card := range c.Cards {
		if card.ID != cardID {
			continue
		}
		l1, l2 := reconcile.CardField(cardID, "billing.line1")+"@"+dir, reconcile.CardField(cardID, "billing.line2")+"@"+dir
		if card.BillingAddress.Line2 == "" {
			want[l1], want[l2] = "missing-in-directory", "missing-at-issuer"
		} else {
			want[l1], want[l2] = "differs", "differs"
		}
	}
}

// diffVerdicts lists every cell of a directory with a profile whose verdict is not the one
// wanted.
func diffVerdicts(got reconcile.Comparison, want map[string]string) []string {
	var problems []string
	seen := map[string]bool{}
	for _, r := range got.Rows {
		for i, cell := range r.Cells {
			col := got.Columns[i]
			if col.State != reconcile.StateProfile && col.State != reconcile.StateNoCard {
				continue
			}
			key := r.Field + "@" + cell.Directory
			w, ok := want[key]
			switch {
			case !ok && cell.Verdict == reconcile.NotApplicable:
			case !ok:
				problems = append(problems, fmt.Sprintf("%s = %s, not expected at all", key, cell.Verdict))
			case string(cell.Verdict) != w:
				problems = append(problems, fmt.Sprintf("%s = %s (%s), want %s", key, cell.Verdict, cell.Reason, w))
			}
			seen[key] = true
		}
	}
	for k := range want {
		if !seen[k] {
			problems = append(problems, "no cell "+k)
		}
	}
	slices.Sort(problems)
	return problems
}
