package issuerdb

import (
	"cmp"
	"slices"
	"strings"
)

// expectedIDs is the reference implementation of Search over the generated portfolio: the
// ids a query must return, in order. It is written as plainly as possible (a scan of every
// customer) so it can be trusted to judge the indexed SQL.
func expectedIDs(all []Customer, p plan) []string {
	type row struct {
		phase      int
		sort, id   string
		searchName string
	}
	var rows []row
	for i := range all {
		c := &all[i]
		s := deriveSearchColumns(c)
		r := row{sort: c.ID, id: c.ID, searchName: s.SearchName}
		ok := false
		switch p.Kind {
		case KindCustomerID:
			ok = c.ID == p.Value
		case KindConsumerID:
			ok = c.ConsumerID == p.Value
		case KindEmail:
			e := strings.ToLower(c.Email)
			ok = e == p.Value || p.EmailPrefix && strings.HasPrefix(e, p.Value)
			r.sort = e
		case KindPhone:
			ok = c.Phone == p.Value
		case KindLast4, KindLast4Name:
			for _, d := range c.Cards {
				ok = ok || d.Last4 == p.Value
			}
			for _, t := range p.Tokens {
				ok = ok && strings.Contains(" "+s.SearchName, " "+t)
			}
		case KindName:
			r.sort = s.SortName
			if s.NameKey == p.Key || s.ShortKey == p.Key {
				ok = true
				break
			}
			r.phase = 1
			ok = true
			words := strings.Fields(s.SearchName)
			for _, t := range p.Tokens {
				ok = ok && slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, t) })
			}
		}
		if ok {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.phase, b.phase), strings.Compare(a.sort, b.sort), strings.Compare(a.id, b.id))
	})
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}
