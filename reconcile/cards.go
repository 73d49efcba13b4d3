package reconcile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// CardFieldKinds lists the fields compared for each card, in row order. A card row's data-field
// is "card:<key>:<kind>".
func CardFieldKinds() []string {
	return []string{
		"expiry", "cardholderName",
		"billing.line1", "billing.line2", "billing.line3",
		"billing.city", "billing.region", "billing.postalCode", "billing.country",
		"status",
	}
}

// CardField is the data-field key of one field of one card.
func CardField(cardKey, kind string) string { return "card:" + cardKey + ":" + kind }

// cardEntry gathers one card across the issuer and every directory while matching.
type cardEntry struct {
	key    string
	issuer *issuerdb.Card
	// inDir holds the directory's card and how it was matched, per directory.
	inDir map[string]matchedCard
}

// matchedCard is a directory card joined to an entry.
type matchedCard struct {
	card d1.Card
	by   string
}

// compareCards joins directory cards to issuer cards (by card id, then by last 4 and expiry),
// builds the card matrix, and compares field by field the cards both the issuer and at least
// one directory hold. A card held on one side only is one line of the matrix and one
// difference: comparing the fields of a card that is not there would only repeat it.
func compareCards(rec issuerdb.Customer, cols []Column, profiles map[string]d1.Profile) ([]CardRow, []Row) {
	entries := make([]*cardEntry, 0, len(rec.Cards))
	byID := map[string]*cardEntry{}
	for i := range rec.Cards {
		c := &rec.Cards[i]
		e := &cardEntry{key: c.ID, issuer: c, inDir: map[string]matchedCard{}}
		entries = append(entries, e)
		byID[c.ID] = e
	}
	for _, col := range cols {
		p, ok := profiles[col.Directory]
		if !ok {
			continue
		}
		for _, dc := range p.Cards {
			e, by := matchIssuerCard(entries, byID, col.Directory, dc)
			if e == nil {
				e = foreignEntry(&entries, byID, col.Directory, dc)
				by = ""
			}
			e.inDir[col.Directory] = matchedCard{card: dc, by: by}
		}
	}
	matrix := make([]CardRow, 0, len(entries))
	var rows []Row
	for _, e := range entries {
		matrix = append(matrix, cardMatrixRow(e, cols))
		if e.issuer != nil && len(e.inDir) > 0 {
			rows = append(rows, cardFieldRows(e, cols)...)
		}
	}
	return matrix, rows
}

// matchIssuerCard finds the issuer card a directory card stands for: first by D1 card id, then
// by last 4 and expiry. A card already matched in this directory is not matched twice.
func matchIssuerCard(entries []*cardEntry, byID map[string]*cardEntry, dir string, dc d1.Card) (*cardEntry, string) {
	free := func(e *cardEntry) bool {
		_, taken := e.inDir[dir]
		return e.issuer != nil && !taken
	}
	if id := strings.TrimSpace(dc.ID); id != "" {
		if e, ok := byID[id]; ok && free(e) {
			return e, "id"
		}
	}
	month, year, ok := parseExpiry(dc.Expiry)
	if !ok || dc.Last4 == "" {
		return nil, ""
	}
	for _, e := range entries {
		c := e.issuer
		if free(e) && c.Last4 == dc.Last4 && c.ExpiryMonth == month && c.ExpiryYear%100 == year%100 {
			return e, "last4+expiry"
		}
	}
	return nil, ""
}

// foreignEntry returns the entry for a directory card the issuer does not know, shared between
// directories that send the same card id.
func foreignEntry(entries *[]*cardEntry, byID map[string]*cardEntry, dir string, dc d1.Card) *cardEntry {
	key := strings.TrimSpace(dc.ID)
	if key == "" {
		key = "unknown-" + strings.ToLower(dir) + "-" + dc.Last4 + "-" + dc.Expiry
	}
	if e, ok := byID[key]; ok && e.issuer == nil {
		if _, taken := e.inDir[dir]; !taken {
			return e
		}
	}
	// A key already used (an issuer card matched twice, or a repeat in one directory) gets a
	// suffix so that every row keeps a unique data-field.
	base := key
	for n := 2; byID[key] != nil; n++ {
		key = base + "-" + strconv.Itoa(n)
	}
	e := &cardEntry{key: key, inDir: map[string]matchedCard{}}
	*entries = append(*entries, e)
	byID[key] = e
	return e
}

// relevant reports whether a card has a place in a directory: its own scheme's, or any that
// holds it.
func (e *cardEntry) relevant(dir string) bool {
	if _, ok := e.inDir[dir]; ok {
		return true
	}
	return e.issuer != nil && strings.TrimSpace(e.issuer.Scheme) == dir
}

// last4 is the card's last four digits from whichever side knows it.
func (e *cardEntry) last4() string {
	if e.issuer != nil {
		return e.issuer.Last4
	}
	for _, m := range e.inDir {
		return m.card.Last4
	}
	return ""
}

// cardMatrixRow is the card's line in the card matrix.
func cardMatrixRow(e *cardEntry, cols []Column) CardRow {
	r := CardRow{Key: e.key, Last4: e.last4(), AtIssuer: e.issuer != nil}
	if e.issuer != nil {
		r.Scheme = e.issuer.Scheme
		r.IssuerStatus = string(e.issuer.Status)
		r.IssuerExpiry = issuerExpiry(*e.issuer)
	}
	for _, col := range cols {
		m, present := e.inDir[col.Directory]
		cell := CardCell{
			Directory: col.Directory,
			Relevant:  e.relevant(col.Directory),
			Available: col.State != StateUnavailable,
			Present:   present,
			MatchedBy: m.by,
		}
		if present {
			cell.Status, cell.Expiry = m.card.Status, m.card.Expiry
			if r.Scheme == "" {
				r.Scheme = col.Directory
			}
		}
		switch {
		case present && e.issuer == nil:
			cell.Difference = KindCardUnknownToIssuer
			for _, kind := range CardFieldKinds() {
				if vs := nonBlank(one(directoryCardValue(m.card, kind))); len(vs) > 0 {
					cell.Fields = append(cell.Fields, FieldValue{Kind: kind, Values: vs})
				}
			}
		case !present && e.issuer != nil && hasProfile(col) && strings.TrimSpace(e.issuer.Scheme) == col.Directory &&
			e.issuer.Status == issuerdb.CardActive:
			// Only a card the customer can pay with belongs in the directory: a lost, stolen,
			// blocked, closed or expired card missing there is as it should be.
			cell.Difference = KindCardNotEnrolled
		}
		r.Directories = append(r.Directories, cell)
	}
	return r
}

// cardFieldRows compares every field of a card the issuer holds, in every directory it
// belongs to. Where the card is not (another scheme's directory, a directory without it or
// without a profile) its cells are not applicable: the card matrix says what is missing, once.
func cardFieldRows(e *cardEntry, cols []Column) []Row {
	kinds := CardFieldKinds()
	rows := make([]Row, 0, len(kinds))
	for _, kind := range kinds {
		row := Row{Field: CardField(e.key, kind), Kind: kind, CardKey: e.key, Cells: make([]Cell, len(cols))}
		row.Issuer = nonBlank(one(issuerCardValue(*e.issuer, kind)))
		for i, col := range cols {
			cell := Cell{Directory: col.Directory}
			m, present := e.inDir[col.Directory]
			switch {
			case col.State == StateUnavailable:
				cell.Verdict = Unavailable
			case !present:
				cell.State = NotApplicable
			default:
				cell.Values = nonBlank(one(directoryCardValue(m.card, kind)))
				judge(&cell, row.Issuer, cardComparer(kind), optionalIn(kind, col.Directory))
			}
			row.Cells[i] = cell
		}
		rows = append(rows, row)
	}
	return rows
}

// issuerExpiry writes an issuer card's expiry as MMYY, the form D1 uses.
func issuerExpiry(c issuerdb.Card) string {
	if c.ExpiryMonth < 1 || c.ExpiryMonth > 12 || c.ExpiryYear <= 0 {
		return ""
	}
	return fmt.Sprintf("%02d%02d", c.ExpiryMonth, c.ExpiryYear%100)
}

// issuerCardValue is one field of an issuer card as a string.
func issuerCardValue(c issuerdb.Card, kind string) string {
	a := c.BillingAddress
	switch kind {
	case "expiry":
		return issuerExpiry(c)
	case "cardholderName":
		return c.CardholderName
	case "billing.line1":
		return a.Line1
	case "billing.line2":
		return a.Line2
	case "billing.line3":
		return a.Line3
	case "billing.city":
		return a.City
	case "billing.region":
		return a.Region
	case "billing.postalCode":
		return a.PostalCode
	case "billing.country":
		return a.Country
	case "status":
		return string(c.Status)
	}
	return ""
}

// directoryCardValue is one field of a directory card as a string.
func directoryCardValue(c d1.Card, kind string) string {
	a := c.BillingAddress
	switch kind {
	case "expiry":
		return c.Expiry
	case "cardholderName":
		return c.CardholderName
	case "billing.line1":
		return a.Line1
	case "billing.line2":
		return a.Line2
	case "billing.line3":
		return a.Line3
	case "billing.city":
		return a.City
	case "billing.region":
		return a.State
	case "billing.postalCode":
		return a.PostalCode
	case "billing.country":
		return a.Country
	case "status":
		return c.Status
	}
	return ""
}

// cardComparer picks the comparison rule for a card field.
func cardComparer(kind string) comparer {
	switch kind {
	case "expiry":
		return compareExpiry
	case "billing.postalCode":
		return comparePostalCode
	case "billing.country":
		return compareCountry
	case "status":
		return compareStatus
	}
	return compareText
}

// parseExpiry reads the expiry forms seen in the wild: MMYY (D1's), MM/YY, MM/YYYY, MM-YY and
// YYYY-MM. It returns the month and the year as written (two or four digits).
func parseExpiry(s string) (month, year int, ok bool) {
	s = strings.TrimSpace(s)
	var ms, ys string
	switch {
	case len(s) == 4 && isDigits(s):
		ms, ys = s[:2], s[2:]
	case len(s) == 7 && (s[4] == '-' || s[4] == '/') && isDigits(s[:4]) && isDigits(s[5:]):
		ys, ms = s[:4], s[5:]
	case len(s) >= 5 && (s[2] == '/' || s[2] == '-') && isDigits(s[:2]) && isDigits(s[3:]) && (len(s) == 5 || len(s) == 7):
		ms, ys = s[:2], s[3:]
	default:
		return 0, 0, false
	}
	m, _ := strconv.Atoi(ms)
	y, _ := strconv.Atoi(ys)
	if m < 1 || m > 12 {
		return 0, 0, false
	}
	return m, y, true
}

// compareExpiry compares an issuer MMYY expiry with a directory's.
func compareExpiry(issuer, directory string) (Verdict, Reason) {
	if issuer == directory {
		return Match, ReasonNone
	}
	im, iy, iok := parseExpiry(issuer)
	dm, dy, dok := parseExpiry(directory)
	if iok && dok && im == dm && iy%100 == dy%100 {
		return Equivalent, ReasonFormat
	}
	return Differs, ReasonNone
}

// statusSynonyms lists, for each issuer card status, the directory statuses that mean the same.
// The directory enum is not documented (docs/d1-api.md), so only the obvious pairs are here.
func statusSynonyms(issuer string) []string {
	switch issuer {
	case string(issuerdb.CardBlocked):
		return []string{"SUSPENDED", "INACTIVE", "BLOCKED"}
	case string(issuerdb.CardClosed):
		return []string{"CLOSED", "DELETED", "INACTIVE"}
	case string(issuerdb.CardExpired):
		return []string{"EXPIRED", "INACTIVE"}
	}
	return nil
}

// compareStatus compares the issuer's card status with a directory's. The two systems speak
// different vocabularies by design ("active" and "ACTIVE", "blocked" and "SUSPENDED"), so the
// same state in the other system's words is a match, not merely equivalent.
func compareStatus(issuer, directory string) (Verdict, Reason) {
	i, d := strings.ToUpper(strings.TrimSpace(issuer)), strings.ToUpper(strings.TrimSpace(directory))
	if i == d || slices.Contains(statusSynonyms(strings.ToLower(i)), d) {
		return Match, ReasonNone
	}
	return Differs, ReasonNone
}

// usableInDirectory reports whether a directory card in this state can still be used to pay:
// anything but a state that mirrors the issuer's block, closure or expiry.
func usableInDirectory(issuerStatus, directoryStatus string) bool {
	v, _ := compareStatus(issuerStatus, directoryStatus)
	return v != Match
}
