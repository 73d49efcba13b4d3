package issuerdb

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// foldSpecial maps letters that Unicode does not decompose into a base letter plus a mark
// (so NFD alone leaves them alone) to what an agent types on an English keyboard.
var foldSpecial = map[rune]string{
	'ł': "l", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ß': "ss",
	'æ': "ae", 'œ': "oe", 'ı': "i", 'ħ': "h", 'ŀ': "l",
}

// Fold turns a name into the form search compares: lower case, diacritics removed ("Zoë" ->
// "zoe", "Nguyễn" -> "nguyen", "Łukasz" -> "lukasz"), apostrophes dropped so "O'Brien" and
// "obrien" meet, and every other non-letter, non-digit run turned into one space. Both the
// stored search columns and the typed query go through it, so the two backends and the test
// model agree by construction.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		switch {
		case r == '\'' || r == '’' || r == 'ʼ':
			continue
		case foldSpecial[r] != "":
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(foldSpecial[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// nameTokens is the folded tokens of a name, in order.
func nameTokens(parts ...string) []string {
	return strings.Fields(Fold(strings.Join(parts, " ")))
}

// nameKey is the order-insensitive identity of a set of name tokens: "Smith John" and
// "john smith" share a key. Exact full-name matches rank first by comparing keys.
func nameKey(tokens []string) string {
	sorted := slices.Clone(tokens)
	slices.Sort(sorted)
	return strings.Join(sorted, " ")
}

// searchColumns are the derived columns the loader stores beside a customer's names.
type searchColumns struct {
	SearchName string // folded "first middle last": what the full-text index holds
	SortName   string // folded "last first middle": the display order of name results
	NameKey    string // nameKey of first, middle and last
	ShortKey   string // nameKey of first and last only
}

func deriveSearchColumns(c *Customer) searchColumns {
	full := nameTokens(c.FirstName, c.MiddleName, c.LastName)
	return searchColumns{
		SearchName: strings.Join(full, " "),
		SortName:   strings.Join(nameTokens(c.LastName, c.FirstName, c.MiddleName), " "),
		NameKey:    nameKey(full),
		ShortKey:   nameKey(nameTokens(c.FirstName, c.LastName)),
	}
}
