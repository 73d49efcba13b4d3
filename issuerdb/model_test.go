package issuerdb

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// expectedIDs is the reference implementation of Search over the generated portfolio: the
// ids a query must return, in order. It is written as plainly as possible (a scan of every
// customer) so it can be trusted to judge the indexed SQL.
func expectedIDs(all []Customer, p plan) []string {
	type row struct {
		phase, keyLen int
		sort, id      string
	}
	keys := expectedCompletionKeys(all, p)
	var rows []row
	for i := range all {
		c := &all[i]
		s := deriveSearchColumns(c)
		r := row{sort: c.ID, id: c.ID}
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
			words := strings.Fields(s.SearchName)
			given := strings.Fields(s.ShortKey)
			ok = true
			for _, t := range p.Tokens {
				ok = ok && slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, t) })
			}
			whole := true
			for _, t := range p.Tokens {
				whole = whole && slices.Contains(given, t)
			}
			switch {
			case s.NameKey == p.Key || s.ShortKey == p.Key:
				ok, r.phase = true, rankFullName
			case slices.Contains(keys, s.ShortKey):
				r.phase, r.keyLen = rankCompletion, utf8.RuneCountInString(s.ShortKey)
			case whole:
				r.phase = rankWholeWords
			default:
				r.phase = rankOther
			}
		}
		if ok {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.phase, b.phase), cmp.Compare(a.keyLen, b.keyLen), strings.Compare(a.sort, b.sort),
			strings.Compare(a.id, b.id))
	})
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

// expectedCompletionKeys is completionKeys over the portfolio's first and last name words.
func expectedCompletionKeys(all []Customer, p plan) []string {
	if p.Kind != KindName || len(p.Tokens) < 2 || len(p.Tokens) > maxCompletionTokens {
		return nil
	}
	vocab := map[string]bool{}
	for i := range all {
		for _, w := range strings.Fields(deriveSearchColumns(&all[i]).ShortKey) {
			vocab[w] = true
		}
	}
	options := make([][]string, len(p.Tokens))
	combos := 1
	for i, t := range p.Tokens {
		for w := range vocab {
			if strings.HasPrefix(w, t) {
				options[i] = append(options[i], w)
			}
		}
		combos *= len(options[i])
		if combos == 0 || combos > maxCompletionKeys {
			return nil
		}
	}
	return completionKeysOf(options, p.Key)
}
