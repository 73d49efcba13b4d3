package issuerdb

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Epoch is the "now" of every synthetic portfolio: timestamps and card expiries are derived
// from it and the seed, never from the clock, so a seed always yields the same rows.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generator produces a deterministic synthetic portfolio. Customer(i) depends only on the
// seed and i, so any record can be rebuilt without a database (the D1 sandbox does this) and
// the loader can generate rows in any order or in parallel.
type Generator struct {
	seed       uint64
	cumulative []int // running sum of culture weights
	total      int
}

// NewGenerator returns the generator of the portfolio with the given seed.
func NewGenerator(seed int64) *Generator {
	g := &Generator{seed: uint64(seed)}
	for _, c := range cultures {
		g.total += c.Weight
		g.cumulative = append(g.cumulative, g.total)
	}
	return g
}

// CustomerID is the issuer customer number of the i-th customer (0-based): "CU00000001" for
// the first. The format is what query detection recognises as a customer id.
func CustomerID(i int) string { return fmt.Sprintf("CU%08d", i+1) }

func (g *Generator) rng(i int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, uint64(i)*0x9E3779B97F4A7C15+1))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// Customer returns the i-th customer (0-based) with its cards. The first ones are the
// showcases (showcase.go), planted for every seed.
func (g *Generator) Customer(i int) Customer {
	r := g.rng(i)
	if i >= 0 && i < len(showcases) {
		return showcaseCustomer(r, i, &showcases[i])
	}
	n := r.IntN(g.total)
	ci := 0
	for n >= g.cumulative[ci] {
		ci++
	}
	cu := &cultures[ci]
	c := Customer{
		ID:         CustomerID(i),
		ConsumerID: uuidFrom(r),
		FirstName:  pick(r, cu.First),
		LastName:   pick(r, cu.Last),
		Language:   cu.Language,
		Country:    cu.Country,
		Status:     customerStatus(r),
	}
	middles := cu.Middle
	if len(middles) == 0 {
		middles = cu.First
	}
	if cu.Middle != nil || r.IntN(10) < 3 {
		if m := pick(r, middles); m != c.FirstName {
			c.MiddleName = m
		}
	}
	c.Email = email(r, cu, &c)
	c.Phone = mobile(r, cu)
	c.Address = address(r, cu)
	c.CreatedAt, c.UpdatedAt = timestamps(r)
	ncards := 1 + r.IntN(3)
	for k := range ncards {
		c.Cards = append(c.Cards, card(r, cu, &c, k))
	}
	return c
}

// timestamps draws when a record was created, within the twelve years before Epoch, and
// last updated since.
func timestamps(r *rand.Rand) (created, updated time.Time) {
	span := int64(Epoch.Sub(Epoch.AddDate(-12, 0, 0)) / time.Second)
	created = Epoch.Add(-time.Duration(1+r.Int64N(span)) * time.Second)
	updated = created.Add(time.Duration(r.Int64N(int64(Epoch.Sub(created)/time.Second))) * time.Second)
	return created, updated
}

func uuidFrom(r *rand.Rand) string {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xF000 | 0x4000     // version 4
	lo = lo&^(0xC<<60) | 0x8<<60 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xFFFF, hi&0xFFFF, lo>>48, lo&0xFFFFFFFFFFFF)
}

func customerStatus(r *rand.Rand) CustomerStatus {
	switch n := r.IntN(100); {
	case n < 90:
		return CustomerActive
	case n < 95:
		return CustomerBlocked
	default:
		return CustomerClosed
	}
}

// asciiLocal is a name as it appears in an email's local part: folded, letters only.
func asciiLocal(s string) string { return strings.ReplaceAll(Fold(s), " ", "") }

func email(r *rand.Rand, cu *culture, c *Customer) string {
	first, last := asciiLocal(c.FirstName), asciiLocal(c.LastName)
	var local string
	switch r.IntN(5) {
	case 0:
		local = first + "." + last
	case 1:
		local = first + last
	case 2:
		local = first[:1] + "." + last
	case 3:
		local = first + "_" + last
	default:
		local = fmt.Sprintf("%s.%s%d", first, last, 1+r.IntN(999))
	}
	if r.IntN(2) == 0 {
		local = fmt.Sprintf("%s%d", local, r.IntN(100))
	}
	return local + "@" + pick(r, cu.Domains)
}

func mobile(r *rand.Rand, cu *culture) string {
	m := pick(r, cu.Mobile)
	var b strings.Builder
	b.WriteString("+" + m.CC + m.Prefix)
	for range m.Rest {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

func postal(r *rand.Rand, pattern string) string {
	var b strings.Builder
	for _, p := range pattern {
		switch p {
		case '9':
			b.WriteByte(byte('0' + r.IntN(10)))
		case 'A':
			b.WriteByte(byte('A' + r.IntN(26)))
		default:
			b.WriteRune(p)
		}
	}
	return b.String()
}

func address(r *rand.Rand, cu *culture) Address {
	ct := pick(r, cu.Cities)
	street, number := pick(r, cu.Streets), 1+r.IntN(240)
	a := Address{City: ct.Name, Region: ct.Region, PostalCode: postal(r, cu.Postal), Country: cu.Country}
	if cu.StreetFirst {
		a.Line1 = fmt.Sprintf("%s %d", street, number)
	} else {
		a.Line1 = fmt.Sprintf("%d %s", number, street)
	}
	if r.IntN(5) == 0 {
		a.Line2 = fmt.Sprintf("Flat %d", 1+r.IntN(40))
	}
	return a
}

func card(r *rand.Rand, cu *culture, c *Customer, k int) Card {
	scheme := SchemeVisa
	if r.IntN(10) < 4 {
		scheme = SchemeMastercard
	}
	d := Card{
		ID:         fmt.Sprintf("crd_%016x%08x", r.Uint64(), uint32(r.Uint32())),
		CustomerID: c.ID,
		Scheme:     scheme,
		Last4:      fmt.Sprintf("%04d", r.IntN(10000)),
		Product:    pick(r, products[scheme]),
		// Embossing has no diacritics and is upper case.
		CardholderName: strings.ToUpper(Fold(c.FirstName + " " + c.LastName)),
		BillingAddress: c.Address,
	}
	if r.IntN(10) == 0 {
		// A billing address the customer has since moved away from.
		d.BillingAddress = address(r, cu)
	}
	switch n := r.IntN(100); {
	case n < 78:
		d.Status = CardActive
	case n < 84:
		d.Status = CardBlocked
	case n < 87:
		d.Status = CardLost
	case n < 89:
		d.Status = CardStolen
	case n < 94:
		d.Status = CardClosed
	default:
		d.Status = CardExpired
	}
	if d.Status == CardExpired {
		past := Epoch.AddDate(0, -1-r.IntN(36), 0)
		d.ExpiryMonth, d.ExpiryYear = int(past.Month()), past.Year()
	} else {
		future := Epoch.AddDate(0, 1+r.IntN(60), 0)
		d.ExpiryMonth, d.ExpiryYear = int(future.Month()), future.Year()
	}
	if k > 0 && c.Status == CustomerClosed {
		d.Status = CardClosed
	}
	return d
}
