package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ctpdesk/store"
)

// TestActorFilterMatchesEmailPrefix: after a sign-in is noted, the actor filter finds the
// person's events by the start of their email in any case; an address that is not a plain
// one is kept out of the directory, a later sign-in replaces the address, and the suggestions
// carry it.
func TestActorFilterMatchesEmailPrefix(t *testing.T) {
	dialects(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tr := seedQuery(t, db, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
		iss := sampleEvent(0).Actor.Issuer
		for _, p := range []Person{
			{Issuer: iss, Subject: "agent-1", Name: "Agent 1", Email: "Kim.Lee@Bank.Example"},
			{Issuer: iss, Subject: "agent-2", Name: "Agent 2", Email: "Kimberly <kim.b@bank.example>"},
			{Issuer: iss, Subject: "agent-3", Name: "Agent 3", Email: "kiran@bank.example\r\nBcc: x@y.example"},
		} {
			if err := tr.NoteSignIn(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		count := func(actor string) int {
			t.Helper()
			page, err := tr.Query(ctx, Filter{Actor: actor})
			if err != nil {
				t.Fatalf("actor %q: %v", actor, err)
			}
			for _, e := range page.Events {
				if e.Actor.Subject != "agent-1" {
					t.Errorf("actor %q lists an event of %s", actor, e.Actor.Subject)
				}
			}
			return len(page.Events)
		}
		for actor, want := range map[string]int{"kim.lee@": 10, "KIM.L": 10, "kim.lee@bank.example": 10, "kim.b": 0, "kiran": 0, "lee@": 0} {
			if got := count(actor); got != want {
				t.Errorf("actor %q: %d events, want %d", actor, got, want)
			}
		}

		if err := tr.NoteSignIn(ctx, Person{Issuer: iss, Subject: "agent-1", Name: "Agent 1", Email: "k.lee@bank.example"}); err != nil {
			t.Fatal(err)
		}
		if got := count("kim.lee"); got != 0 {
			t.Errorf("the old address still finds %d events after the new sign-in", got)
		}
		if got := count("k.lee"); got != 10 {
			t.Errorf("the new address finds %d events, want 10", got)
		}

		people, err := tr.RecentActors(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		emails := map[string]string{}
		for _, p := range people {
			emails[p.Subject] = p.Email
		}
		if emails["agent-1"] != "k.lee@bank.example" || emails["agent-2"] != "" || emails["agent-3"] != "" || len(people) != 4 {
			t.Errorf("suggestions' emails %v", emails)
		}
	})
}

func TestNoteSignInRefusesBrokenIdentities(t *testing.T) {
	tr := mustTrail(t, mustSQLite(t), Options{})
	for name, p := range map[string]Person{
		"no subject":       {Issuer: "https://idp.example.test", Email: "a@b.example"},
		"subject too long": {Issuer: "https://idp.example.test", Subject: strings.Repeat("s", maxSubject+1)},
		"issuer too long":  {Issuer: strings.Repeat("i", maxIssuer+1), Subject: "s"},
		"not UTF-8":        {Issuer: "https://idp.example.test", Subject: "s\xff"},
	} {
		if err := tr.NoteSignIn(context.Background(), p); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
}

func TestDirectoryEmail(t *testing.T) {
	for raw, want := range map[string]string{
		"Kim@Bank.Example":                 "kim@bank.example",
		"  kim@bank.example ":              "kim@bank.example",
		"Kim <kim@bank.example>":           "",
		"kim@bank.example\nBcc: a@b.test":  "",
		"not an address":                   "",
		"":                                 "",
		strings.Repeat("a", 250) + "@b.cc": "",
		"k\xffm@bank.example":              "",
	} {
		if got := directoryEmail(raw); got != want {
			t.Errorf("directoryEmail(%q) = %q, want %q", raw, got, want)
		}
	}
}
