package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"ctpdesk/issuerdb"
	"ctpdesk/mask"
	"ctpdesk/views"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// kindLabels say in the page's words what a query was understood as.
var kindLabels = map[issuerdb.Kind]string{
	issuerdb.KindEmail:      "email",
	issuerdb.KindPhone:      "phone number",
	issuerdb.KindLast4:      "card last 4",
	issuerdb.KindLast4Name:  "card last 4 and name",
	issuerdb.KindCustomerID: "customer id",
	issuerdb.KindConsumerID: "D1 consumer id",
	issuerdb.KindName:       "name",
}

// searchView builds the search page's view model. searchErr is the query's QueryError, if
// any; reveal shows contact data unmasked (for roles allowed to see it).
func searchView(in searchInput, page issuerdb.Page, searchErr error, reveal bool) views.SearchResults {
	v := views.SearchResults{Query: in.Query, Rows: []views.SearchRow{}}
	var qe *issuerdb.QueryError
	if errors.As(searchErr, &qe) {
		v.Message = sentenceCase(qe.Message)
		return v
	}
	if in.Query == "" {
		return v
	}
	v.Kind, v.KindLabel = string(page.Kind), kindLabels[page.Kind]
	for _, c := range page.Customers {
		row := views.SearchRow{
			CustomerID: c.ID,
			ConsumerID: c.ConsumerID,
			Name:       fullName(c),
			Place:      strings.TrimSpace(c.Address.City + " " + c.Address.PostalCode),
			Country:    c.Address.Country,
			Email:      contact(c.Email, reveal, mask.MaskEmail),
			Phone:      contact(c.Phone, reveal, mask.MaskPhone),
			Status:     string(c.Status),
			URL:        customerURL(c.ID),
			Cards:      make([]views.CardSummary, 0, len(c.Cards)),
		}
		for _, s := range issuerdb.Highlight(row.Name, page.Tokens) {
			row.NameParts = append(row.NameParts, views.TextPart{Text: s.Text, Mark: s.Match})
		}
		for _, d := range c.Cards {
			row.Cards = append(row.Cards, views.CardSummary{Scheme: d.Scheme, Last4: d.Last4, Status: string(d.Status),
				Match: page.Last4 != "" && d.Last4 == page.Last4})
		}
		v.Rows = append(v.Rows, row)
	}
	v.Total, v.TotalOver, v.TotalAtLeast = page.Total, page.TotalOver, page.TotalAtLeast
	if len(v.Rows) > 0 {
		v.From, v.To = page.Offset+1, page.Offset+len(v.Rows)
		v.CountText = countText(v.From, v.To, v.Total, v.TotalOver, v.TotalAtLeast)
	}
	if page.Next != "" {
		q := url.Values{"q": {in.Query}, "after": {page.Next}}
		if in.Limit > 0 {
			q.Set("limit", fmt.Sprint(in.Limit))
		}
		v.NextURL = "/customers?" + q.Encode()
	}
	return v
}

// countText says which rows a page shows out of how many: "Showing 20 of 228" on the first
// page, "Showing 21–40 of 228" after it, "… of over 1,000" past the count's cap, "… of at
// least 509" when the count is a lower bound.
func countText(from, to, total int, over, atLeast bool) string {
	shown := groupThousands(to)
	if from > 1 {
		shown = groupThousands(from) + "–" + groupThousands(to)
	}
	of := groupThousands(total)
	switch {
	case over:
		of = "over " + of
	case atLeast:
		// A lower bound below the rows already shown (PostgreSQL's bounded count of sparse
		// name matches can stop before it reaches them) says no more than the page itself.
		of = "at least " + groupThousands(max(total, to))
	}
	return "Showing " + shown + " of " + of
}

// numbers prints counts the way the page's English text does ("1,000").
var numbers = message.NewPrinter(language.English)

func groupThousands(n int) string { return numbers.Sprint(n) }

// customerView builds the issuer half of the customer page. reveal shows contact data
// unmasked; showAll asks the comparison the page loads for every field, not only differences.
func customerView(c issuerdb.Customer, reveal, showAll bool) views.CustomerRecord {
	v := views.CustomerRecord{
		CustomerID:    c.ID,
		ConsumerID:    c.ConsumerID,
		Name:          fullName(c),
		FirstName:     c.FirstName,
		MiddleName:    c.MiddleName,
		LastName:      c.LastName,
		Email:         contact(c.Email, reveal, mask.MaskEmail),
		Phone:         contact(c.Phone, reveal, mask.MaskPhone),
		Masked:        !reveal,
		Language:      c.Language,
		Country:       c.Country,
		Address:       addressLines(c.Address),
		Status:        string(c.Status),
		Created:       displayTime(c.CreatedAt),
		Updated:       displayTime(c.UpdatedAt),
		Cards:         make([]views.CardRecord, 0, len(c.Cards)),
		ComparisonURL: customerURL(c.ID) + "/comparison",
	}
	if showAll {
		v.ComparisonURL += "?show=all"
	}
	for _, d := range c.Cards {
		v.Cards = append(v.Cards, views.CardRecord{
			ID:             d.ID,
			Scheme:         d.Scheme,
			Last4:          d.Last4,
			Expiry:         views.ExpiryOf(d.ExpiryMonth, d.ExpiryYear),
			CardholderName: d.CardholderName,
			Status:         string(d.Status),
			Product:        d.Product,
			BillingAddress: addressLines(d.BillingAddress),
		})
	}
	return v
}

// sentenceCase starts a message with a capital letter, as the page prints it as a sentence.
func sentenceCase(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func contact(value string, reveal bool, masker func(string) string) string {
	if reveal {
		return value
	}
	return masker(value)
}

func fullName(c issuerdb.Customer) string {
	return strings.Join(strings.Fields(c.FirstName+" "+c.MiddleName+" "+c.LastName), " ")
}

// customerURL is the path of a customer's page; the id is escaped as one path segment.
func customerURL(id string) string { return "/customers/" + url.PathEscape(id) }

// addressLines is an address as the lines an envelope would show.
func addressLines(a issuerdb.Address) []string {
	lines := []string{}
	for _, l := range []string{a.Line1, a.Line2, a.Line3, strings.TrimSpace(a.PostalCode + " " + a.City), a.Region, a.Country} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
