package issuerdb

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Showcase is a customer every synthetic portfolio plants at a fixed place, whatever the
// seed: the README's search examples find showcases on the first rows, and the README names
// them as the customers to open. The rest of a showcase's record (its consumer id, address,
// card ids and expiries) is drawn from the seed like any other customer's.
type Showcase struct {
	// ID is the customer id: CustomerID of the showcase's index (set by Showcases).
	ID string
	// Name is the full name as the results show it.
	Name string
	// Shows says, for the README, what opening the customer shows.
	Shows string
	// Queries are the README's searches that list this customer on one of the first rows.
	Queries []string
	// Scenario is what the D1 sandbox's directories hold for the customer: a sandbox scenario
	// kind ("match", "differs", "not-enrolled", "no-card", "risk"), for "risk" followed by
	// ":" and the risk ("risk:closed-card-active").
	Scenario string

	country, first, middle, last, city string
	email, phone                       string // "" draws them as for anyone
	cards                              []showcaseCard
}

// showcaseCard is a planted card: its scheme, last 4 ("" draws them) and status.
type showcaseCard struct {
	scheme, last4 string
	status        CardStatus
}

// showcases are planted at indices 0, 1, …: CU00000001 onwards.
var showcases = []Showcase{
	{
		Name: "Zoë Ashworth", Shows: "a record that matches both directories", Queries: []string{"zoe", "zoe ash"},
		Scenario: "match", country: "GB", first: "Zoë", last: "Ashworth", city: "London", email: "zoe.ashworth@example.co.uk",
		cards: []showcaseCard{{SchemeVisa, "", CardActive}, {SchemeMastercard, "", CardActive}},
	},
	{
		Name: "John Smith", Shows: "a record that matches", Scenario: "match",
		Queries: []string{"smi jo", "john smith", "4242 smith", "john.smith@example.co.uk", "07400 123456", "+44 7400 123456"},
		country: "GB", first: "John", last: "Smith", city: "Manchester", email: "john.smith@example.co.uk", phone: "+447400123456",
		cards: []showcaseCard{{SchemeVisa, "4242", CardActive}},
	},
	{
		Name: "Aaliyah Nguyễn", Shows: "a record that matches", Queries: []string{"nguyen", "nguyễn aaliyah"}, Scenario: "match",
		country: "US", first: "Aaliyah", last: "Nguyễn", city: "Boston",
		cards: []showcaseCard{{SchemeMastercard, "", CardActive}},
	},
	{
		Name: "Łukasz Nowak", Shows: "a stolen card still enrolled in its directory", Queries: []string{"lukasz nowak"},
		Scenario: "risk:closed-card-active", country: "PL", first: "Łukasz", last: "Nowak", city: "Kraków",
		cards: []showcaseCard{{SchemeVisa, "", CardStolen}, {SchemeVisa, "", CardActive}},
	},
	{
		Name: "Siobhán Murphy", Shows: "a drift: a directory holds other contact or card details", Queries: []string{"siobhan murphy"},
		Scenario: "differs", country: "IE", first: "Siobhán", last: "Murphy", city: "Cork",
		cards: []showcaseCard{{SchemeVisa, "", CardActive}, {SchemeMastercard, "", CardActive}},
	},
	{
		Name: "Jürgen Müller", Shows: "a customer not enrolled in any Click to Pay directory", Queries: []string{"jurgen muller"},
		Scenario: "not-enrolled", country: "DE", first: "Jürgen", last: "Müller", city: "München",
		cards: []showcaseCard{{SchemeMastercard, "", CardActive}},
	},
	{
		Name: "Chloé Dubois", Shows: "a card the directory holds and the issuer never issued", Queries: []string{"chloe dubois"},
		Scenario: "risk:unknown-card", country: "FR", first: "Chloé", last: "Dubois", city: "Lyon",
		cards: []showcaseCard{{SchemeVisa, "", CardActive}},
	},
}

// Showcases returns the planted customers, in id order.
func Showcases() []Showcase {
	out := append([]Showcase(nil), showcases...)
	for i := range out {
		out[i].ID = CustomerID(i)
	}
	return out
}

// ShowcaseScenario returns the sandbox scenario of c when c is the showcase the portfolio of
// seed planted (same id and consumer id), so a record that merely reuses a showcase's id keeps
// the scenario its consumer id draws.
func ShowcaseScenario(seed int64, c Customer) (string, bool) {
	for i, s := range showcases {
		if CustomerID(i) == c.ID {
			return s.Scenario, NewGenerator(seed).Customer(i).ConsumerID == c.ConsumerID
		}
	}
	return "", false
}

// cultureOf is the population of a country.
func cultureOf(country string) *culture {
	for i := range cultures {
		if cultures[i].Country == country {
			return &cultures[i]
		}
	}
	panic("issuerdb: no culture for " + country) // the showcases above name only known ones
}

// showcaseCustomer builds the i-th customer from its showcase: the names, place, contact
// details and cards it plants, the rest drawn from r as for every customer.
func showcaseCustomer(r *rand.Rand, i int, s *Showcase) Customer {
	cu := cultureOf(s.country)
	c := Customer{
		ID:         CustomerID(i),
		ConsumerID: uuidFrom(r),
		FirstName:  s.first,
		MiddleName: s.middle,
		LastName:   s.last,
		Language:   cu.Language,
		Country:    cu.Country,
		Status:     CustomerActive,
		Email:      s.email,
		Phone:      s.phone,
	}
	if c.Email == "" {
		c.Email = email(r, cu, &c)
	}
	if c.Phone == "" {
		c.Phone = mobile(r, cu)
	}
	c.Address = address(r, cu)
	for _, ct := range cu.Cities {
		if ct.Name == s.city {
			c.Address.City, c.Address.Region = ct.Name, ct.Region
		}
	}
	c.CreatedAt, c.UpdatedAt = timestamps(r)
	for k, sc := range s.cards {
		d := card(r, cu, &c, k)
		d.Scheme, d.Status, d.Product = sc.scheme, sc.status, pick(r, products[sc.scheme])
		if sc.last4 != "" {
			d.Last4 = sc.last4
		}
		// Every planted card is current, so its status is the one the showcase means.
		future := Epoch.AddDate(0, 12+r.IntN(48), 0)
		d.ExpiryMonth, d.ExpiryYear = int(future.Month()), future.Year()
		d.CardholderName = strings.ToUpper(Fold(c.FirstName + " " + c.LastName))
		c.Cards = append(c.Cards, d)
	}
	return c
}

// String is the showcase as the README lists it.
func (s Showcase) String() string { return fmt.Sprintf("%s %s: %s", s.ID, s.Name, s.Shows) }
