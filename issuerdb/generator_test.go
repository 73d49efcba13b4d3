package issuerdb

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers"
)

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := NewGenerator(7), NewGenerator(7)
	for _, i := range []int{0, 1, 999, 123456, 999999} {
		if diff := cmp.Diff(a.Customer(i), b.Customer(i)); diff != "" {
			t.Errorf("customer %d differs between two generators of one seed (-a +b):\n%s", i, diff)
		}
	}
	// Out of order access gives the same record: each one depends on the seed and index only.
	first := a.Customer(5)
	_ = a.Customer(6)
	if diff := cmp.Diff(first, a.Customer(5)); diff != "" {
		t.Errorf("customer 5 changed after generating customer 6:\n%s", diff)
	}
	if cmp.Equal(a.Customer(3), NewGenerator(8).Customer(3)) {
		t.Error("seeds 7 and 8 gave the same customer 3")
	}
}

var (
	consumerIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	cardIDRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,48}$`)
	languageRE   = regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`)
	last4RE      = regexp.MustCompile(`^[0-9]{4}$`)
)

func TestGeneratedPortfolioIsRealistic(t *testing.T) {
	all := portfolio(testCustomers)
	countries := map[string]int{}
	schemes := map[string]int{}
	cardStatuses := map[CardStatus]int{}
	customerStatuses := map[CustomerStatus]int{}
	diacritics := map[string]bool{}
	consumerIDs := map[string]bool{}
	for _, c := range all {
		num, err := phonenumbers.Parse(c.Phone, "")
		if err != nil || !phonenumbers.IsValidNumber(num) || phonenumbers.Format(num, phonenumbers.E164) != c.Phone {
			t.Errorf("%s: phone %q is not a valid E.164 number (%v)", c.ID, c.Phone, err)
		} else if kind := phonenumbers.GetNumberType(num); kind != phonenumbers.MOBILE && kind != phonenumbers.FIXED_LINE_OR_MOBILE {
			t.Errorf("%s: phone %q is not a mobile number (type %v)", c.ID, c.Phone, kind)
		}
		if r := phonenumbers.GetRegionCodeForNumber(num); r != c.Country {
			t.Errorf("%s: phone %q is from %s, customer lives in %s", c.ID, c.Phone, r, c.Country)
		}
		if !consumerIDRE.MatchString(c.ConsumerID) || consumerIDs[c.ConsumerID] {
			t.Errorf("%s: consumer id %q is malformed or repeated", c.ID, c.ConsumerID)
		}
		consumerIDs[c.ConsumerID] = true
		if !languageRE.MatchString(c.Language) {
			t.Errorf("%s: language %q", c.ID, c.Language)
		}
		if !c.CreatedAt.Before(Epoch) || c.UpdatedAt.Before(c.CreatedAt) || c.UpdatedAt.After(Epoch) {
			t.Errorf("%s: created %v updated %v out of order", c.ID, c.CreatedAt, c.UpdatedAt)
		}
		if len(c.Cards) < 1 || len(c.Cards) > 3 {
			t.Errorf("%s: %d cards", c.ID, len(c.Cards))
		}
		for _, name := range []string{c.FirstName, c.MiddleName, c.LastName} {
			for _, r := range name {
				if r >= utf8.RuneSelf {
					diacritics[name] = true
				}
			}
		}
		countries[c.Country]++
		customerStatuses[c.Status]++
		for _, d := range c.Cards {
			if !cardIDRE.MatchString(d.ID) || !last4RE.MatchString(d.Last4) || d.ExpiryMonth < 1 || d.ExpiryMonth > 12 {
				t.Errorf("%s: malformed card %+v", c.ID, d)
			}
			expired := d.ExpiryYear*12+d.ExpiryMonth <= Epoch.Year()*12+int(Epoch.Month())
			if expired != (d.Status == CardExpired) && d.Status != CardClosed {
				t.Errorf("%s: card %s is %s with expiry %d/%d", c.ID, d.ID, d.Status, d.ExpiryMonth, d.ExpiryYear)
			}
			schemes[d.Scheme]++
			cardStatuses[d.Status]++
		}
	}
	if len(countries) < 8 {
		t.Errorf("customers from %d countries, want at least 8: %v", len(countries), countries)
	}
	for _, name := range []string{"Zoë", "Łukasz", "José", "Nguyễn", "Øyvind", "Siobhán", "Müller"} {
		if !diacritics[name] {
			t.Errorf("no customer named %s among %d", name, len(all))
		}
	}
	if len(schemes) != 2 || len(cardStatuses) != 6 || len(customerStatuses) != 3 {
		t.Errorf("mix: schemes %v, card statuses %v, customer statuses %v", schemes, cardStatuses, customerStatuses)
	}
}
