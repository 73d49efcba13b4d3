// Package d1 is the client of the Thales D1 "Click to Pay get consumer profiles" API: the
// OAuth 2.0 JWT-bearer token, the GET itself, the mapping of the provisional wire format onto
// the types below, and every way the upstream can fail. It is read-only towards D1.
package d1

import "time"

// Well-known directory names as D1 sends them. Unknown values are kept as they are.
const (
	DirectoryVisa       = "VISA"
	DirectoryMastercard = "MASTERCARD"
)

// Profile is one Click to Pay directory's profile of a consumer. D1 returns at most one per
// directory.
type Profile struct {
	Directory string // the scheme string from D1, e.g. "VISA"; unknown values kept verbatim
	Consumer  Consumer
	Cards     []Card
}

// Consumer is the person part of a directory profile. A directory may hold several emails or
// phone numbers.
type Consumer struct {
	FirstName  string
	MiddleName string
	LastName   string
	Emails     []string
	Phones     []Phone
	Language   string // as sent: "en-GB" or "en_GB"
}

// Phone is a phone number as a directory holds it: a country calling code and national digits.
type Phone struct {
	CountryCode string
	Number      string
}

// Card is one card in a directory profile. Last4 is never longer than four digits: a longer
// number from the wire is cut at decode time.
type Card struct {
	ID             string // D1 card id
	Last4          string
	Expiry         string // MMYY as sent
	CardholderName string
	BillingAddress Address
	Status         string // as sent; unknown values kept verbatim
}

// Address is a billing address as a directory holds it. Country may be alpha-2 or alpha-3.
type Address struct {
	Line1      string
	Line2      string
	Line3      string
	City       string
	State      string
	PostalCode string
	Country    string
}

// Result is what GetProfiles returns: the profiles, when they were fetched, and whether they
// come from the cache after D1 failed (Stale, with the error that made them stale).
type Result struct {
	Profiles      []Profile
	FetchedAt     time.Time
	CorrelationID string
	Cached        bool
	Stale         bool
	StaleReason   error
}

// Age is how old the result is at now.
func (r Result) Age(now time.Time) time.Duration { return now.Sub(r.FetchedAt) }
