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
// profiles the D1 sandbox derives for it, and checks that the verdicts, the one-sided cards
// and the count of differences are exactly the deliberate changes the sandbox reports (its
// Derivation), nothing more and nothing less. The expectations come from the sandbox's own
// account of what it changed, not from reconcile.
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
		problems := append(diffVerdicts(got, want.cells), diffCards(got, want.cards)...)
		if n := want.differences(); got.Summary.Differences != n {
			problems = append(problems, fmt.Sprintf("summary counts %d differences, the derivation %d", got.Summary.Differences, n))
		}
		if len(problems) > 0 {
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

// expectation is what a derivation implies: the verdict of every compared cell, keyed
// "field@DIRECTORY", and the one-sided cards, keyed "cardId@DIRECTORY" with their kind.
type expectation struct {
	cells map[string]string
	cards map[string]string
}

// differences is the count a person would give: every cell that disagrees, and every
// one-sided card once.
func (e expectation) differences() int {
	n := len(e.cards)
	for _, v := range e.cells {
		if v == "differs" || v == "missing-in-directory" || v == "missing-at-issuer" {
			n++
		}
	}
	return n
}

// ExpectedFromDerivation computes, from the issuer record, the sandbox's profiles and its
// account of its changes, the verdict of every cell in a directory that holds a profile and
// the cards held on one side only. Cells of directories without a profile, and of cards a
// directory does not hold, are left out: their column state and the card matrix say it all.
func ExpectedFromDerivation(c issuerdb.Customer, profiles []d1.Profile, dv d1sandbox.Derivation) expectation {
	want := expectation{cells: map[string]string{}, cards: map[string]string{}}
	for _, p := range profiles {
		dir := p.Directory
		for _, f := range []string{"firstName", "middleName", "lastName", "email", "phone", "language"} {
			want.cells[f+"@"+dir] = "match"
		}
		inDir := map[string]bool{}
		for _, dc := range p.Cards {
			inDir[dc.ID] = true
		}
		for _, card := range c.Cards {
			switch {
			case inDir[card.ID]:
				for _, k := range reconcile.CardFieldKinds() {
					want.cells[reconcile.CardField(card.ID, k)+"@"+dir] = "match"
				}
			case card.Scheme == dir && card.Status == issuerdb.CardActive:
				// The sandbox leaves every card out of a no-card profile; an active one is
				// missing there.
				want.cards[card.ID+"@"+dir] = reconcile.KindCardNotEnrolled
			}
		}
	}
	for _, ch := range dv.Changes {
		at := "@" + ch.Directory
		switch {
		case ch.Field == d1sandbox.FieldEmail:
			want.cells[ch.Field+at] = "differs"
		case ch.Field == d1sandbox.FieldPhone && ch.Equivalent:
			want.cells[ch.Field+at] = "equivalent"
		case ch.Field == d1sandbox.FieldPhone:
			want.cells[ch.Field+at] = "differs"
		case ch.Field == d1sandbox.FieldFirstName || ch.Field == d1sandbox.FieldMiddleName || ch.Field == d1sandbox.FieldLastName:
			// The sandbox's only name change is dropping diacritics.
			want.cells[ch.Field+at] = "equivalent"
		case strings.HasSuffix(ch.Field, ":billingAddress"):
			id := strings.TrimSuffix(strings.TrimPrefix(ch.Field, "card:"), ":billingAddress")
			markAddressMove(want.cells, c, id, ch.Directory)
		case strings.HasSuffix(ch.Field, ":expiry"), strings.HasSuffix(ch.Field, ":status"):
			want.cells[ch.Field+at] = "differs"
		case strings.HasPrefix(ch.Field, "card:") && strings.Count(ch.Field, ":") == 1:
			want.cards[strings.TrimPrefix(ch.Field, "card:")+at] = reconcile.KindCardUnknownToIssuer
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
			if !got.Columns[i].State.HasProfile() {
				continue
			}
			key := r.Field + "@" + cell.Directory
			w, ok := want[key]
			switch {
			case !ok && cell.State == reconcile.NotApplicable:
			case !ok:
				problems = append(problems, fmt.Sprintf("%s = %s%s, not expected at all", key, cell.Verdict, cell.State))
			case string(cell.Verdict) != w:
				problems = append(problems, fmt.Sprintf("%s = %s%s (%s), want %s", key, cell.Verdict, cell.State, cell.Reason, w))
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

// diffCards lists every card-matrix cell whose one-sided difference is not the one wanted.
func diffCards(got reconcile.Comparison, want map[string]string) []string {
	var problems []string
	found := map[string]string{}
	for _, card := range got.Cards {
		for _, d := range card.Directories {
			if d.Difference != "" {
				found[card.Key+"@"+d.Directory] = d.Difference
			}
		}
	}
	for k, w := range want {
		if found[k] != w {
			problems = append(problems, fmt.Sprintf("card %s = %q, want %q", k, found[k], w))
		}
	}
	for k, g := range found {
		if _, ok := want[k]; !ok {
			problems = append(problems, fmt.Sprintf("card %s = %q, not expected", k, g))
		}
	}
	slices.Sort(problems)
	return problems
}
