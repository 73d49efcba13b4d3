package d1sandbox_test

import (
	"strings"
	"testing"

	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
)

// TestShowcasesHoldWhatTheyArePlantedFor: whatever the seed, each showcase customer's
// directories hold what the README says opening it shows, and a record that only reuses a
// showcase's id keeps the scenario its consumer id draws.
func TestShowcasesHoldWhatTheyArePlantedFor(t *testing.T) {
	for _, seed := range []int64{1, 7, 42} {
		g := issuerdb.NewGenerator(seed)
		for i, s := range issuerdb.Showcases() {
			c := g.Customer(i)
			if c.ID != s.ID {
				t.Fatalf("showcase %d has id %s, the portfolio's customer %s", i, s.ID, c.ID)
			}
			profiles, dv := d1sandbox.Derive(seed, c)
			kind, risk, _ := strings.Cut(s.Scenario, ":")
			if string(dv.Kind) != kind || string(dv.Risk) != risk {
				t.Errorf("seed %d, %s: derived %s/%s, planted for %s", seed, s, dv.Kind, dv.Risk, s.Scenario)
				continue
			}
			switch s.Scenario {
			case "match":
				if len(dv.Changes) != 0 || len(profiles) == 0 {
					t.Errorf("seed %d, %s: %d profiles with changes %v, want a match", seed, s, len(profiles), dv.Changes)
				}
			case "differs":
				if len(dv.Changes) == 0 {
					t.Errorf("seed %d, %s: no difference", seed, s)
				}
			case "not-enrolled":
				if len(profiles) != 0 {
					t.Errorf("seed %d, %s: %d profiles", seed, s, len(profiles))
				}
			case "risk:closed-card-active":
				stolen := c.Cards[0]
				found := false
				for _, p := range profiles {
					for _, d := range p.Cards {
						found = found || d.ID == stolen.ID && d.Status == "ACTIVE"
					}
				}
				if stolen.Status != issuerdb.CardStolen || !found {
					t.Errorf("seed %d, %s: card %s (%s) is not ACTIVE in its directory", seed, s, stolen.ID, stolen.Status)
				}
			case "risk:unknown-card":
				found := false
				for _, p := range profiles {
					for _, d := range p.Cards {
						found = found || strings.HasPrefix(d.ID, "crd_unk_")
					}
				}
				if !found {
					t.Errorf("seed %d, %s: no card unknown to the issuer", seed, s)
				}
			default:
				t.Errorf("%s: scenario %q is none the sandbox knows", s, s.Scenario)
			}
		}
	}
	// Another record under a showcase's id is not planted.
	c := issuerdb.NewGenerator(1).Customer(4)
	c.ConsumerID = "another-consumer"
	if _, dv := d1sandbox.Derive(1, c); dv.Scenario != d1sandbox.ScenarioFor(1, c.ConsumerID) {
		t.Errorf("a record reusing %s took the showcase's scenario: %+v", c.ID, dv.Scenario)
	}
}
