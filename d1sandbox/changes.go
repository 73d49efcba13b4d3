package d1sandbox

import (
	"fmt"
	"strconv"
	"strings"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// difference is one applicable kind of change for KindDiffers.
type difference struct {
	name  string
	apply func(p *d1.Profile, values *uint64) []Change
}

// applyDifferences applies 1–3 applicable differences to p (rule 5 of Derive).
func applyDifferences(p *d1.Profile, c issuerdb.Customer, s Scenario, values *uint64) []Change {
	var candidates []difference
	if len(p.Consumer.Emails) > 0 {
		candidates = append(candidates, difference{"email", changeEmail})
	}
	if len(p.Consumer.Phones) > 0 && p.Consumer.Phones[0].CountryCode != "" {
		candidates = append(candidates, difference{"phone", reformatPhone})
	}
	if stripDiacritics(c.FirstName) != c.FirstName || stripDiacritics(c.MiddleName) != c.MiddleName || stripDiacritics(c.LastName) != c.LastName {
		candidates = append(candidates, difference{"name", stripNames})
	}
	for _, card := range p.Cards {
		if card.BillingAddress.Line1 != "" {
			candidates = append(candidates, difference{"address", moveAddressLine})
			break
		}
	}
	if len(p.Cards) > 0 {
		candidates = append(candidates, difference{"expiry", renewExpiry})
	}
	n := min(1+int(s.draws[drawChangeCount]%3), len(candidates))
	// Partial Fisher–Yates: the first n candidates after the shuffle are applied, in the
	// order of the original list so that results read naturally.
	pick := s.draws[drawChangePick]
	chosen := make([]bool, len(candidates))
	idx := make([]int, len(candidates))
	for i := range idx {
		idx[i] = i
	}
	for i := 0; i < n; i++ {
		j := i + int(pick%uint64(len(idx)-i))
		pick, _ = splitmix64(pick)
		idx[i], idx[j] = idx[j], idx[i]
		chosen[idx[i]] = true
	}
	var changes []Change
	for i, cand := range candidates {
		if chosen[i] {
			changes = append(changes, cand.apply(p, values)...)
		}
	}
	return changes
}

// changeEmail inserts ".NN" before the @ of the first email.
func changeEmail(p *d1.Profile, values *uint64) []Change {
	e := p.Consumer.Emails[0]
	suffix := fmt.Sprintf(".%02d", next(values)%100)
	if at := strings.LastIndexByte(e, '@'); at >= 0 {
		e = e[:at] + suffix + e[at:]
	} else {
		e += suffix
	}
	p.Consumer.Emails = append([]string{e}, p.Consumer.Emails[1:]...)
	return []Change{{Directory: p.Directory, Field: FieldEmail}}
}

// reformatPhone writes the same number as "+CC NNN NNN N" with no separate country code.
func reformatPhone(p *d1.Profile, _ *uint64) []Change {
	ph := p.Consumer.Phones[0]
	var b strings.Builder
	b.WriteString("+" + ph.CountryCode)
	for i, r := range ph.Number {
		if i%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	p.Consumer.Phones[0] = d1.Phone{Number: b.String()}
	return []Change{{Directory: p.Directory, Field: FieldPhone, Equivalent: true}}
}

// stripNames removes diacritics from every name field that has some.
func stripNames(p *d1.Profile, _ *uint64) []Change {
	var changes []Change
	for _, f := range []struct {
		field string
		v     *string
	}{{FieldFirstName, &p.Consumer.FirstName}, {FieldMiddleName, &p.Consumer.MiddleName}, {FieldLastName, &p.Consumer.LastName}} {
		if s := stripDiacritics(*f.v); s != *f.v {
			*f.v = s
			changes = append(changes, Change{Directory: p.Directory, Field: f.field})
		}
	}
	return changes
}

// moveAddressLine moves Line1 to Line2 (or swaps them) on every card with a Line1.
func moveAddressLine(p *d1.Profile, _ *uint64) []Change {
	var changes []Change
	for i := range p.Cards {
		a := &p.Cards[i].BillingAddress
		if a.Line1 == "" {
			continue
		}
		if a.Line2 == "" {
			a.Line1, a.Line2 = "", a.Line1
		} else {
			a.Line1, a.Line2 = a.Line2, a.Line1
		}
		changes = append(changes, Change{Directory: p.Directory, Field: CardField(p.Cards[i].ID, "billingAddress")})
	}
	return changes
}

// renewExpiry makes the directory hold the expiry from before the issuer renewed the first card.
func renewExpiry(p *d1.Profile, _ *uint64) []Change {
	card := &p.Cards[0]
	if len(card.Expiry) == 4 {
		if yy, err := strconv.Atoi(card.Expiry[2:]); err == nil {
			card.Expiry = fmt.Sprintf("%s%02d", card.Expiry[:2], (yy+97)%100)
		}
	}
	return []Change{{Directory: p.Directory, Field: CardField(card.ID, "expiry")}}
}

// applyRisk applies the preferred risk flavour or the next applicable one (rule 6 of Derive).
func applyRisk(profiles []d1.Profile, c issuerdb.Customer, s Scenario, values *uint64) (Risk, []Change) {
	start := 0
	for i, r := range riskOrder {
		if r == s.Risk {
			start = i
		}
	}
	for k := range riskOrder {
		switch riskOrder[(start+k)%len(riskOrder)] {
		case RiskClosedCardActive:
			if ch, ok := closedCardActive(profiles, c); ok {
				return RiskClosedCardActive, ch
			}
		case RiskUnknownCard:
			return RiskUnknownCard, unknownCard(&profiles[0], c, values)
		case RiskContactTakeover:
			if len(profiles[0].Consumer.Emails) > 0 && len(profiles[0].Consumer.Phones) > 0 {
				return RiskContactTakeover, contactTakeover(&profiles[0], values)
			}
		}
	}
	return RiskUnknownCard, unknownCard(&profiles[0], c, values)
}

// closedCardActive adds the customer's first lost, stolen or closed card, ACTIVE, to its
// directory.
func closedCardActive(profiles []d1.Profile, c issuerdb.Customer) ([]Change, bool) {
	for _, card := range c.Cards {
		if card.Status != issuerdb.CardLost && card.Status != issuerdb.CardStolen && card.Status != issuerdb.CardClosed {
			continue
		}
		for i := range profiles {
			if profiles[i].Directory == card.Scheme {
				profiles[i].Cards = append(profiles[i].Cards, directoryCard(card, "ACTIVE"))
				return []Change{{Directory: card.Scheme, Field: CardField(card.ID, "status")}}, true
			}
		}
	}
	return nil, false
}

// unknownCard adds an ACTIVE card the issuer never issued.
func unknownCard(p *d1.Profile, c issuerdb.Customer, values *uint64) []Change {
	v := next(values)
	id := fmt.Sprintf("crd_unk_%016x", next(values))
	card := d1.Card{
		ID:             id,
		Last4:          fmt.Sprintf("%04d", v%10000),
		Expiry:         fmt.Sprintf("%02d%02d", 1+(v>>16)%12, 28+(v>>24)%3),
		CardholderName: strings.ToUpper(stripDiacritics(c.FirstName + " " + c.LastName)),
		Status:         "ACTIVE",
		BillingAddress: d1.Address{
			Line1: c.Address.Line1, Line2: c.Address.Line2, Line3: c.Address.Line3, City: c.Address.City,
			State: c.Address.Region, PostalCode: c.Address.PostalCode, Country: c.Address.Country,
		},
	}
	p.Cards = append(p.Cards, card)
	return []Change{{Directory: p.Directory, Field: CardField(id, "")}}
}

// contactTakeover replaces both email and phone in one directory with values the issuer has
// never seen: the classic sign of an account takeover.
func contactTakeover(p *d1.Profile, values *uint64) []Change {
	p.Consumer.Emails = []string{fmt.Sprintf("cp%06d@mailbox.example", next(values)%1000000)}
	ph := p.Consumer.Phones[0]
	digits := []byte(ph.Number)
	v := next(values)
	for i := len(digits) - 1; i >= 0 && i >= len(digits)-6; i-- {
		if digits[i] >= '0' && digits[i] <= '9' {
			digits[i] = byte('0' + (int(digits[i]-'0')+1+int(v%9))%10)
			v /= 9
		}
	}
	p.Consumer.Phones = []d1.Phone{{CountryCode: ph.CountryCode, Number: string(digits)}}
	return []Change{{Directory: p.Directory, Field: FieldEmail}, {Directory: p.Directory, Field: FieldPhone}}
}
