package d1sandbox_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
	"ctpdesk/issuerdb"
)

// TestScenarioDistribution checks the kinds' shares over many consumer ids.
func TestScenarioDistribution(t *testing.T) {
	const n = 40000
	counts := map[d1sandbox.Kind]int{}
	risks := map[d1sandbox.Risk]int{}
	for i := range n {
		s := d1sandbox.ScenarioFor(7, fmt.Sprintf("%08x-consumer", i))
		counts[s.Kind]++
		if s.Kind == d1sandbox.KindRisk {
			risks[s.Risk]++
		}
	}
	want := map[d1sandbox.Kind]float64{
		d1sandbox.KindMatch: 0.60, d1sandbox.KindDiffers: 0.25, d1sandbox.KindRisk: 0.05,
		d1sandbox.KindNoCard: 0.05, d1sandbox.KindNotEnrolled: 0.05,
	}
	for kind, share := range want {
		got := float64(counts[kind]) / n
		if math.Abs(got-share) > 0.01 {
			t.Errorf("%s: share %.3f, want %.2f±0.01", kind, got, share)
		}
	}
	for _, r := range []d1sandbox.Risk{d1sandbox.RiskClosedCardActive, d1sandbox.RiskUnknownCard, d1sandbox.RiskContactTakeover} {
		if risks[r] < counts[d1sandbox.KindRisk]/4 {
			t.Errorf("risk flavour %s: %d of %d", r, risks[r], counts[d1sandbox.KindRisk])
		}
	}
}

// TestScenarioDeterministic checks the same seed and id always give the same scenario and
// profiles, and another seed reshuffles.
func TestScenarioDeterministic(t *testing.T) {
	c := d1test.Customer(17)
	p1, d1v := d1sandbox.Derive(3, c)
	p2, d2v := d1sandbox.Derive(3, c)
	if diff := cmp.Diff(p1, p2); diff != "" {
		t.Fatalf("profiles differ between runs:\n%s", diff)
	}
	if diff := cmp.Diff(d1v, d2v, cmp.AllowUnexported(d1sandbox.Scenario{})); diff != "" {
		t.Fatalf("derivations differ:\n%s", diff)
	}
	same := 0
	for i := range 200 {
		id := d1test.ConsumerID(i)
		if d1sandbox.ScenarioFor(1, id).Kind == d1sandbox.ScenarioFor(2, id).Kind {
			same++
		}
	}
	if same > 150 {
		t.Errorf("seed barely matters: %d of 200 kinds unchanged", same)
	}
}

// TestDeriveRules checks the documented rules of Derive over a test portfolio.
func TestDeriveRules(t *testing.T) {
	seen := map[string]int{}
	for i := range 2000 {
		c := d1test.Customer(i)
		profiles, dv := d1sandbox.Derive(11, c)
		seen[string(dv.Kind)]++
		if dv.OmittedDirectory != "" {
			seen["omitted"]++
		}
		if dv.ExtraDirectory != "" {
			seen["extra"]++
		}
		if len(profiles) != len(dv.Directories) {
			t.Fatalf("%s: %d profiles for directories %v", c.ConsumerID, len(profiles), dv.Directories)
		}
		for k, p := range profiles {
			if p.Directory != dv.Directories[k] {
				t.Fatalf("%s: directory order %v", c.ConsumerID, dv.Directories)
			}
		}
		switch dv.Kind {
		case d1sandbox.KindNotEnrolled:
			if len(profiles) != 0 {
				t.Fatalf("%s: not enrolled with %d profiles", c.ConsumerID, len(profiles))
			}
		case d1sandbox.KindMatch:
			checkMatch(t, c, profiles, dv)
		case d1sandbox.KindNoCard:
			for _, p := range profiles {
				if len(p.Cards) != 0 {
					t.Fatalf("%s: no-card profile with cards", c.ConsumerID)
				}
			}
		case d1sandbox.KindDiffers:
			fields := map[string]bool{}
			for _, ch := range dv.Changes {
				fields[strings.SplitN(ch.Field, ":", 3)[0]] = true
				if ch.Directory == "" {
					t.Fatalf("%s: change without directory", c.ConsumerID)
				}
			}
			if len(dv.Changes) == 0 {
				t.Fatalf("%s: differs without a change", c.ConsumerID)
			}
			checkDiffersOnlyWhereSaid(t, c, profiles, dv)
		case d1sandbox.KindRisk:
			if dv.Risk == "" || len(dv.Changes) == 0 {
				t.Fatalf("%s: risk without flavour or change", c.ConsumerID)
			}
		}
	}
	for _, k := range []string{"match", "differs", "risk", "no-card", "not-enrolled", "omitted", "extra"} {
		if seen[k] == 0 {
			t.Errorf("no customer derived %s", k)
		}
	}
}

// checkMatch checks a match profile equals the issuer record per rule 2.
func checkMatch(t *testing.T, c issuerdb.Customer, profiles []d1.Profile, dv d1sandbox.Derivation) {
	t.Helper()
	for _, p := range profiles {
		if p.Consumer.FirstName != c.FirstName || p.Consumer.LastName != c.LastName || p.Consumer.MiddleName != c.MiddleName ||
			len(p.Consumer.Emails) != 1 || p.Consumer.Emails[0] != c.Email || p.Consumer.Language != c.Language {
			t.Fatalf("%s: match profile consumer %+v", c.ConsumerID, p.Consumer)
		}
		ph := p.Consumer.Phones[0]
		if "+"+ph.CountryCode+ph.Number != c.Phone {
			t.Fatalf("%s: phone %+v vs %s", c.ConsumerID, ph, c.Phone)
		}
		want := 0
		for _, card := range c.Cards {
			if card.Scheme == p.Directory && (card.Status == issuerdb.CardActive || card.Status == issuerdb.CardBlocked) {
				want++
			}
		}
		if len(p.Cards) != want {
			t.Fatalf("%s: %s has %d cards, want %d", c.ConsumerID, p.Directory, len(p.Cards), want)
		}
		for _, card := range p.Cards {
			if len(card.Last4) != 4 || (card.Status != "ACTIVE" && card.Status != "SUSPENDED") {
				t.Fatalf("%s: card %+v", c.ConsumerID, card)
			}
		}
	}
	_ = dv
}

// checkDiffersOnlyWhereSaid checks that undoing nothing but the listed fields would give the
// base profile: every consumer field not listed equals the issuer record.
func checkDiffersOnlyWhereSaid(t *testing.T, c issuerdb.Customer, profiles []d1.Profile, dv d1sandbox.Derivation) {
	t.Helper()
	listed := map[string]bool{}
	for _, ch := range dv.Changes {
		listed[ch.Directory+"/"+ch.Field] = true
	}
	for _, p := range profiles {
		check := func(field, got, want string) {
			if !listed[p.Directory+"/"+field] && got != want {
				t.Fatalf("%s: %s %s = %q, issuer %q, not listed in %+v", c.ConsumerID, p.Directory, field, got, want, dv.Changes)
			}
			if listed[p.Directory+"/"+field] && got == want {
				t.Fatalf("%s: %s %s listed as changed but equal", c.ConsumerID, p.Directory, field)
			}
		}
		check(d1sandbox.FieldFirstName, p.Consumer.FirstName, c.FirstName)
		check(d1sandbox.FieldLastName, p.Consumer.LastName, c.LastName)
		check(d1sandbox.FieldEmail, p.Consumer.Emails[0], c.Email)
		ph := p.Consumer.Phones[0]
		check(d1sandbox.FieldPhone, ph.CountryCode+"|"+ph.Number, strings.Replace(c.Phone, "+", "", 1)[:len(ph.CountryCode)]+"|"+c.Phone[1+len(ph.CountryCode):])
	}
}
