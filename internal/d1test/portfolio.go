// Package d1test holds test support shared by the d1 and sandbox tests: a small hand-made
// issuer portfolio, a fake clock and run-time certificates. It is internal to d1 and never
// used by production code.
package d1test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"ctpdesk/issuerdb"
)

// Portfolio is an in-memory sandbox.PortfolioSource keyed by consumer id.
type Portfolio struct {
	mu        sync.Mutex
	customers map[string]issuerdb.Customer
	order     []string
}

// NewPortfolio returns a portfolio of the n customers Customer(0..n-1).
func NewPortfolio(n int) *Portfolio {
	p := &Portfolio{customers: map[string]issuerdb.Customer{}}
	for i := range n {
		p.Add(Customer(i))
	}
	return p
}

// Add stores a customer.
func (p *Portfolio) Add(c issuerdb.Customer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.customers[c.ConsumerID]; !ok {
		p.order = append(p.order, c.ConsumerID)
	}
	p.customers[c.ConsumerID] = c
}

// Remove forgets a customer, so the sandbox answers 404 for it from then on.
func (p *Portfolio) Remove(consumerID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.customers, consumerID)
}

// CustomerByConsumerID implements sandbox.PortfolioSource.
func (p *Portfolio) CustomerByConsumerID(_ context.Context, consumerID string) (issuerdb.Customer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.customers[consumerID]
	if !ok {
		return issuerdb.Customer{}, issuerdb.ErrNotFound
	}
	return c, nil
}

// All returns the customers in insertion order.
func (p *Portfolio) All() []issuerdb.Customer {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]issuerdb.Customer, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, p.customers[id])
	}
	return out
}

var (
	firstNames = []string{"Amelia", "Zoë", "José", "Oliver", "Léa", "Jürgen", "Maria", "Noah", "Ève", "Søren"}
	lastNames  = []string{"Hartmann", "Müller", "García", "Smith", "Nguyễn", "Dubois", "O'Brien", "Kowalski", "Björk", "Rossi"}
	countries  = []struct{ cc, country, lang, city string }{
		{"44", "GB", "en-GB", "London"}, {"49", "DE", "de-DE", "Berlin"},
		{"33", "FR", "fr-FR", "Paris"}, {"34", "ES", "es-ES", "Madrid"},
	}
	mobiles    = map[string]string{"44": "7700900", "49": "1511234", "33": "612345", "34": "612345"}
	statusPlan = []issuerdb.CardStatus{
		issuerdb.CardActive, issuerdb.CardActive, issuerdb.CardBlocked, issuerdb.CardActive,
		issuerdb.CardLost, issuerdb.CardActive, issuerdb.CardClosed, issuerdb.CardActive,
		issuerdb.CardStolen, issuerdb.CardExpired, issuerdb.CardActive,
	}
)

// ConsumerID is the consumer id of Customer(i).
func ConsumerID(i int) string { return fmt.Sprintf("cns-%06d", i) }

// Customer is a deterministic, hand-shaped synthetic customer: names with and without
// diacritics, four countries, one to three cards on VISA and MASTERCARD in varied states.
func Customer(i int) issuerdb.Customer {
	co := countries[i%len(countries)]
	first, last := firstNames[i%len(firstNames)], lastNames[(i/3)%len(lastNames)]
	c := issuerdb.Customer{
		ID:         fmt.Sprintf("CU%08d", i+1),
		ConsumerID: ConsumerID(i),
		FirstName:  first,
		LastName:   last,
		Email:      fmt.Sprintf("customer%d@example.com", i),
		Phone:      fmt.Sprintf("+%s%s%03d", co.cc, mobiles[co.cc], i%1000),
		Language:   co.lang,
		Country:    co.country,
		Status:     issuerdb.CustomerActive,
		Address: issuerdb.Address{
			Line1: fmt.Sprintf("%d High Street", 1+i%200), City: co.city,
			PostalCode: fmt.Sprintf("%05d", 10000+i%9000), Country: co.country,
		},
		CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if i%4 == 0 {
		c.MiddleName = "Rosé"
	}
	if i%5 == 0 {
		c.Address.Line2 = fmt.Sprintf("Flat %d", 1+i%30)
	}
	n := 1 + i%3
	for k := range n {
		scheme := issuerdb.SchemeVisa
		if (i+k)%3 == 1 {
			scheme = issuerdb.SchemeMastercard
		}
		c.Cards = append(c.Cards, issuerdb.Card{
			ID:             fmt.Sprintf("crd_t%06d_%d", i, k),
			CustomerID:     c.ID,
			Scheme:         scheme,
			Last4:          fmt.Sprintf("%04d", (i*7+k*13)%10000),
			ExpiryMonth:    1 + (i+k)%12,
			ExpiryYear:     2027 + (i+k)%4,
			CardholderName: fmt.Sprintf("CARDHOLDER %d", i),
			BillingAddress: c.Address,
			Status:         statusPlan[(i+k)%len(statusPlan)],
			Product:        "classic",
		})
	}
	return c
}
