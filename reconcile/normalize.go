package reconcile

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// comparer decides the verdict for two non-empty values of one kind of field. Emptiness is
// handled once, by compareSets, so comparers only see values that are present on both sides.
type comparer func(issuer, directory string) (Verdict, Reason)

// isBlank treats a value made only of white space as absent: a directory that sends " " holds
// no name.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// collapseSpace trims a string and turns every run of Unicode white space into one ASCII space.
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// foldCase applies Unicode full case folding (ß folds to ss). A Caser keeps state, so each call
// makes its own rather than sharing one between goroutines. ASCII text folds to its lower case,
// without building one.
func foldCase(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return cases.Fold().String(s)
}

// isASCII reports whether s is all ASCII: most of a portfolio's names, which need neither
// case folding tables nor decomposition.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// baseLetters maps letters that carry a diacritic Unicode does not decompose to the base letters
// people type when their keyboard lacks them (Łukasz → Lukasz, Øyvind → Oyvind). It sees
// case-folded text, since stripping happens after folding.
func baseLetters(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case 'ø':
			b.WriteByte('o')
		case 'ł', 'ŀ':
			b.WriteByte('l')
		case 'đ', 'ð':
			b.WriteByte('d')
		case 'ħ':
			b.WriteByte('h')
		case 'ı':
			b.WriteByte('i')
		case 'æ':
			b.WriteString("ae")
		case 'œ':
			b.WriteString("oe")
		case 'þ':
			b.WriteString("th")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripDiacritics removes combining marks after canonical decomposition, then maps the
// remaining letters with built-in strokes. Its input is already case-folded.
func stripDiacritics(s string) string {
	if isASCII(s) {
		// No ASCII letter decomposes or carries a stroke.
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		// The chain never fails on valid or invalid UTF-8; keeping the input is the safe answer.
		return s
	}
	return baseLetters(out)
}

// NormalizeName is the key under which two names are the same person's name whatever their
// form: NFC, white space collapsed, case folded and diacritics removed.
func NormalizeName(s string) string {
	return stripDiacritics(foldCase(collapseSpace(norm.NFC.String(s))))
}

// compareText compares names and address parts step by step, naming the last step that made the
// two values equal.
func compareText(issuer, directory string) (Verdict, Reason) {
	if issuer == directory {
		return Match, ReasonNone
	}
	a, b := norm.NFC.String(issuer), norm.NFC.String(directory)
	if a == b {
		return Equivalent, ReasonFormat
	}
	a, b = collapseSpace(a), collapseSpace(b)
	if a == b {
		return Equivalent, ReasonWhitespace
	}
	a, b = foldCase(a), foldCase(b)
	if a == b {
		return Equivalent, ReasonCase
	}
	if stripDiacritics(a) == stripDiacritics(b) {
		return Equivalent, ReasonDiacritics
	}
	return Differs, ReasonNone
}

// NormalizeEmail is the key under which two email addresses are the same mailbox for this
// comparison: trimmed and lower-cased. Local parts are case-sensitive in theory but never in
// practice at the providers consumers use.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// compareEmail compares two email addresses.
func compareEmail(issuer, directory string) (Verdict, Reason) {
	if issuer == directory {
		return Match, ReasonNone
	}
	a, b := strings.TrimSpace(issuer), strings.TrimSpace(directory)
	if a == b {
		return Equivalent, ReasonWhitespace
	}
	if strings.EqualFold(a, b) {
		return Equivalent, ReasonCase
	}
	return Differs, ReasonNone
}

// NormalizePhone returns the E.164 form of a phone number, parsed with region (ISO 3166 alpha-2)
// as the default for numbers written without a country code. When the number cannot be parsed
// it falls back to its digits alone, so that comparison still works on odd input.
func NormalizePhone(s, region string) string {
	if n, err := phonenumbers.Parse(s, strings.ToUpper(region)); err == nil {
		return phonenumbers.Format(n, phonenumbers.E164)
	}
	return phonenumbers.NormalizeDigitsOnly(s)
}

// phoneComparer compares two phone numbers as written, with the customer's country as the
// default region.
func phoneComparer(region string) comparer {
	return func(issuer, directory string) (Verdict, Reason) {
		if issuer == directory {
			return Match, ReasonNone
		}
		a, b := NormalizePhone(issuer, region), NormalizePhone(directory, region)
		if a != "" && a == b {
			return Equivalent, ReasonFormat
		}
		return Differs, ReasonNone
	}
}

// NormalizeLanguage turns "en_GB", "EN-gb" and "en-GB" into one BCP 47 form.
func NormalizeLanguage(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	if tag, err := language.Parse(s); err == nil {
		return tag.String()
	}
	return strings.ToLower(s)
}

// compareLanguage compares two language tags.
func compareLanguage(issuer, directory string) (Verdict, Reason) {
	if issuer == directory {
		return Match, ReasonNone
	}
	if NormalizeLanguage(issuer) == NormalizeLanguage(directory) {
		return Equivalent, ReasonLanguageFormat
	}
	return Differs, ReasonNone
}

// NormalizePostalCode removes every space and upper-cases: "sw1a 2aa" and "SW1A2AA" are one code.
func NormalizePostalCode(s string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
}

// comparePostalCode compares two postal codes.
func comparePostalCode(issuer, directory string) (Verdict, Reason) {
	if issuer == directory {
		return Match, ReasonNone
	}
	if NormalizePostalCode(issuer) == NormalizePostalCode(directory) {
		return Equivalent, ReasonPostalFormat
	}
	return Differs, ReasonNone
}

// NormalizeCountry returns the ISO 3166-1 alpha-2 code for an alpha-2 or alpha-3 code in any
// case, using the full ISO 3166 table of golang.org/x/text. Anything that is not a country code
// (a region such as "150", a name) comes back upper-cased, unchanged otherwise.
func NormalizeCountry(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 2 && len(s) != 3 {
		return s
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return s
		}
	}
	region, err := language.ParseRegion(s)
	if err != nil || !region.IsCountry() {
		return s
	}
	return region.String()
}

// compareCountry compares two country codes.
func compareCountry(issuer, directory string) (Verdict, Reason) {
	if issuer == directory {
		return Match, ReasonNone
	}
	a, b := strings.ToUpper(strings.TrimSpace(issuer)), strings.ToUpper(strings.TrimSpace(directory))
	if a == b {
		return Equivalent, ReasonCase
	}
	if NormalizeCountry(a) == NormalizeCountry(b) {
		return Equivalent, ReasonCountryCode
	}
	return Differs, ReasonNone
}
