// Package issuerdb reads the issuer's own records: customers and their cards. Production opens
// the issuer's read replica read-only; the schema and the synthetic seed exist for development,
// demos and tests. Two backends, SQLite and PostgreSQL, behave the same.
package issuerdb

import (
	"errors"
	"time"
)

// ErrNotFound is returned when a customer id names no record.
var ErrNotFound = errors.New("issuerdb: not found")

// CustomerStatus is the issuer's lifecycle state of a customer.
type CustomerStatus string

// Customer statuses.
const (
	CustomerActive  CustomerStatus = "active"
	CustomerBlocked CustomerStatus = "blocked"
	CustomerClosed  CustomerStatus = "closed"
)

// CardStatus is the issuer's lifecycle state of a card.
type CardStatus string

// Card statuses.
const (
	CardActive  CardStatus = "active"
	CardBlocked CardStatus = "blocked"
	CardLost    CardStatus = "lost"
	CardStolen  CardStatus = "stolen"
	CardClosed  CardStatus = "closed"
	CardExpired CardStatus = "expired"
)

// Schemes the issuer issues cards on; the values match the directory names D1 uses.
const (
	SchemeVisa       = "VISA"
	SchemeMastercard = "MASTERCARD"
)

// Address is a postal address as the issuer stores it. Country is ISO 3166-1 alpha-2.
type Address struct {
	Line1      string
	Line2      string
	Line3      string
	City       string
	Region     string
	PostalCode string
	Country    string
}

// Customer is one issuer customer. ID is the issuer's customer number; ConsumerID is the
// customer's D1 consumer id. Phone is stored in E.164. Language is "xx-YY".
type Customer struct {
	ID         string
	ConsumerID string
	FirstName  string
	MiddleName string
	LastName   string
	Email      string
	Phone      string
	Language   string
	Country    string
	Address    Address
	Status     CustomerStatus
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Cards are the customer's cards in the issuer's order; Get, CustomerByConsumerID,
	// Search and the generator all fill them.
	Cards []Card
}

// Card is one card of a customer. Only the last four digits of the PAN exist here.
type Card struct {
	ID             string // D1 card id
	CustomerID     string
	Scheme         string
	Last4          string
	ExpiryMonth    int // 1..12
	ExpiryYear     int // four digits
	CardholderName string
	BillingAddress Address
	Status         CardStatus
	Product        string
}
