package d1sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// Field names of Change, matching the data-field hooks of the comparison page.
const (
	FieldEmail      = "email"
	FieldPhone      = "phone"
	FieldFirstName  = "firstName"
	FieldMiddleName = "middleName"
	FieldLastName   = "lastName"
)

// CardField names a field of one card: "card:<cardId>:<name>", or "card:<cardId>" for the card
// itself (present in a directory but unknown to the issuer).
func CardField(cardID, name string) string {
	if name == "" {
		return "card:" + cardID
	}
	return "card:" + cardID + ":" + name
}

// Change is one deliberate difference between a directory profile and the issuer record.
type Change struct {
	Directory string
	Field     string // FieldEmail, FieldPhone, a name field, or CardField(...)
	// Equivalent is true when the values are the same after normalising (phone format).
	Equivalent bool
}

// Derivation explains how Derive built a consumer's profiles, so tests and the comparison
// code can compute the verdicts they expect.
type Derivation struct {
	Scenario Scenario
	// Kind is the effective kind: KindDiffers falls back to KindMatch when no change applies,
	// and any kind becomes KindNotEnrolled when the customer has no card at all.
	Kind Kind
	// Risk is the flavour applied for KindRisk.
	Risk Risk
	// Directories lists the profiles returned, in order.
	Directories []string
	// OmittedDirectory is a directory of the customer's schemes left out (consumer present in
	// one directory only), "" when none.
	OmittedDirectory string
	// ExtraDirectory is a directory present although the customer has no card of its scheme;
	// its profile has no cards. "" when none.
	ExtraDirectory string
	// Changes lists every deliberate difference, risk conflicts included.
	Changes []Change
}

// knownDirectories is the order of directories in a response.
var knownDirectories = []string{d1.DirectoryVisa, d1.DirectoryMastercard}

// Derive builds the profiles the sandbox returns for a customer. The rules, in order:
//
//  1. Directories: one per scheme among the customer's cards (any status), VISA first, then
//     MASTERCARD, then others alphabetically. No card at all: no directory, KindNotEnrolled.
//  2. Base profile per directory: the issuer's first, middle and last name, email, phone (split
//     into country calling code and national number), language, and the customer's cards of
//     that scheme whose status is active (directory status ACTIVE) or blocked (SUSPENDED),
//     each with card id, last 4, expiry MMYY, cardholder name and billing address (Region
//     becomes State; Country stays alpha-2). Lost, stolen, closed and expired cards are absent.
//  3. KindNotEnrolled: no profile. KindNoCard: every profile with an empty card list.
//  4. For match, differs and no-card: when the customer has two directories and
//     draws[2] % 5 == 0, only one is kept (draws[3] % 2 picks which: OmittedDirectory); when
//     the customer has one known directory and draws[4] % 10 == 0, the other known directory
//     is added with the consumer data and no cards (ExtraDirectory).
//  5. KindDiffers: one directory (draws[3] % n) gets 1 + draws[5] % 3 changes (capped at the
//     applicable ones), picked by a Fisher–Yates draw from, in order: email ("local.NN@domain"),
//     phone (same number written "+CC NNN NNN…" with no country code field: Equivalent), name
//     without diacritics (each changed name field), billing address line moved (Line2 gets
//     Line1 when Line2 is empty, else the two swap; every card with a Line1), expiry renewed at
//     the issuer only (the first card's directory expiry is three years earlier).
//  6. KindRisk: the preferred flavour or the next applicable one: closed-card-active (the
//     first lost/stolen/closed card is added ACTIVE to its directory), unknown-card (an ACTIVE
//     card with id "crd_unk_…" is added to the first directory), contact-takeover (email and
//     phone replaced in the first directory).
//
// The portfolio's showcases (issuerdb.Showcases) take the scenario they are planted for
// instead of the one their consumer id draws; the draws that pick the details stay.
func Derive(seed int64, c issuerdb.Customer) ([]d1.Profile, Derivation) {
	s := ScenarioFor(seed, c.ConsumerID)
	if planted, ok := issuerdb.ShowcaseScenario(seed, c); ok {
		// The portfolio's showcases hold what the README says opening them shows.
		kind, risk, _ := strings.Cut(planted, ":")
		s.Kind, s.Risk = Kind(kind), Risk(risk)
	}
	dv := Derivation{Scenario: s, Kind: s.Kind}
	dirs := directoriesOf(c)
	if len(dirs) == 0 || s.Kind == KindNotEnrolled {
		dv.Kind = KindNotEnrolled
		return []d1.Profile{}, dv
	}
	if s.Kind != KindRisk {
		known := slices.DeleteFunc(slices.Clone(knownDirectories), func(d string) bool { return !slices.Contains(dirs, d) })
		switch {
		case len(dirs) == 2 && s.draws[drawOneDirectory]%5 == 0:
			keep := dirs[s.draws[drawWhichDirectory]%2]
			dv.OmittedDirectory = dirs[1-s.draws[drawWhichDirectory]%2]
			dirs = []string{keep}
		case len(dirs) == 1 && len(known) == 1 && s.draws[drawExtraDirectory]%10 == 0:
			for _, k := range knownDirectories {
				if k != dirs[0] {
					dv.ExtraDirectory = k
				}
			}
			dirs = sortDirectories(append(dirs, dv.ExtraDirectory))
		}
	}
	profiles := make([]d1.Profile, 0, len(dirs))
	for _, dir := range dirs {
		p := baseProfile(c, dir)
		if s.Kind == KindNoCard {
			p.Cards = []d1.Card{}
		}
		profiles = append(profiles, p)
	}
	dv.Directories = dirs
	values := s.draws[drawValues]
	switch s.Kind {
	case KindDiffers:
		target := int(s.draws[drawWhichDirectory] % uint64(len(profiles)))
		dv.Changes = applyDifferences(&profiles[target], c, s, &values)
		if len(dv.Changes) == 0 {
			dv.Kind = KindMatch
		}
	case KindRisk:
		dv.Risk, dv.Changes = applyRisk(profiles, c, s, &values)
	}
	return profiles, dv
}

// directoriesOf returns the sorted, distinct schemes of the customer's cards.
func directoriesOf(c issuerdb.Customer) []string {
	var dirs []string
	for _, card := range c.Cards {
		if card.Scheme != "" && !slices.Contains(dirs, card.Scheme) {
			dirs = append(dirs, card.Scheme)
		}
	}
	return sortDirectories(dirs)
}

// sortDirectories orders directories VISA, MASTERCARD, then the rest alphabetically.
func sortDirectories(dirs []string) []string {
	rank := func(d string) int {
		if i := slices.Index(knownDirectories, d); i >= 0 {
			return i
		}
		return len(knownDirectories)
	}
	slices.SortFunc(dirs, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return dirs
}

// baseProfile is a directory's profile equal to the issuer record (rule 2).
func baseProfile(c issuerdb.Customer, dir string) d1.Profile {
	p := d1.Profile{
		Directory: dir,
		Consumer: d1.Consumer{
			FirstName:  c.FirstName,
			MiddleName: c.MiddleName,
			LastName:   c.LastName,
			Language:   c.Language,
		},
		Cards: []d1.Card{},
	}
	if c.Email != "" {
		p.Consumer.Emails = []string{c.Email}
	}
	if c.Phone != "" {
		p.Consumer.Phones = []d1.Phone{splitPhone(c.Phone)}
	}
	for _, card := range c.Cards {
		if card.Scheme != dir {
			continue
		}
		var status string
		switch card.Status {
		case issuerdb.CardActive:
			status = "ACTIVE"
		case issuerdb.CardBlocked:
			status = "SUSPENDED"
		default:
			continue
		}
		p.Cards = append(p.Cards, directoryCard(card, status))
	}
	return p
}

// directoryCard maps an issuer card onto a directory card with the given status.
func directoryCard(card issuerdb.Card, status string) d1.Card {
	a := card.BillingAddress
	return d1.Card{
		ID:             card.ID,
		Last4:          card.Last4,
		Expiry:         expiryMMYY(card.ExpiryMonth, card.ExpiryYear),
		CardholderName: card.CardholderName,
		Status:         status,
		BillingAddress: d1.Address{
			Line1: a.Line1, Line2: a.Line2, Line3: a.Line3, City: a.City,
			State: a.Region, PostalCode: a.PostalCode, Country: a.Country,
		},
	}
}

// expiryMMYY formats an expiry the way D1 does.
func expiryMMYY(month, year int) string { return fmt.Sprintf("%02d%02d", month, year%100) }

// splitPhone splits an E.164 number into country calling code and national number; an
// unparseable value is kept whole as the number.
func splitPhone(e164 string) d1.Phone {
	num, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return d1.Phone{Number: e164}
	}
	return d1.Phone{
		CountryCode: strconv.Itoa(int(num.GetCountryCode())),
		Number:      phonenumbers.GetNationalSignificantNumber(num),
	}
}

// stripDiacritics removes combining marks ("Zoë" -> "Zoe"), keeping case.
func stripDiacritics(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// next returns the next value of a derivation's value stream.
func next(state *uint64) uint64 {
	var v uint64
	*state, v = splitmix64(*state)
	return v
}
