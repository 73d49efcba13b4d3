package reconcile

import (
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// setParts locates the difference between two sets of contact values: the parts in which each
// value without an equal or equivalent counterpart differs from the values on the other side.
func setParts(issuer, directory []string, cmp comparer, parts func(issuer, directory string) []Part) []Part {
	agrees := func(a, b string) bool {
		v, _ := cmp(a, b)
		return v == Match || v == Equivalent
	}
	var out []Part
	add := func(ps []Part) {
		for _, p := range ps {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	for _, d := range directory {
		if slices.ContainsFunc(issuer, func(i string) bool { return agrees(i, d) }) {
			continue
		}
		for _, i := range issuer {
			add(parts(i, d))
		}
	}
	for _, i := range issuer {
		if slices.ContainsFunc(directory, func(d string) bool { return agrees(i, d) }) {
			continue
		}
		for _, d := range directory {
			add(parts(i, d))
		}
	}
	slices.SortFunc(out, func(a, b Part) int { return partRank(a) - partRank(b) })
	return out
}

// partRank orders parts as they are written: local part before domain, country code before
// the number.
func partRank(p Part) int {
	switch p {
	case PartLocal:
		return 0
	case PartDomain:
		return 1
	case PartCountryCode:
		return 2
	case PartLeadingDigits:
		return 3
	}
	return 4
}

// emailParts says which parts of two email addresses differ: the local part, the domain or
// both, ignoring case and surrounding space as the comparison does.
func emailParts(issuer, directory string) []Part {
	il, id := splitEmail(issuer)
	dl, dd := splitEmail(directory)
	var out []Part
	if !strings.EqualFold(il, dl) {
		out = append(out, PartLocal)
	}
	if !strings.EqualFold(id, dd) {
		out = append(out, PartDomain)
	}
	return out
}

// splitEmail cuts an address at its last "@"; without one, all of it is the local part.
func splitEmail(s string) (local, domain string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// phoneParts says which parts of two phone numbers differ: the country calling code, the last
// four digits (which masked numbers show) and the digits before them (which they hide).
func phoneParts(region string) func(issuer, directory string) []Part {
	return func(issuer, directory string) []Part {
		icc, inat := splitPhoneNumber(issuer, region)
		dcc, dnat := splitPhoneNumber(directory, region)
		var out []Part
		if icc != dcc {
			out = append(out, PartCountryCode)
		}
		ilead, ilast := cutLastFour(inat)
		dlead, dlast := cutLastFour(dnat)
		if ilead != dlead {
			out = append(out, PartLeadingDigits)
		}
		if ilast != dlast {
			out = append(out, PartLastFourDigits)
		}
		return out
	}
}

// splitPhoneNumber returns the country calling code and the national digits of a number,
// parsed with region as the default; an unparseable number is all national digits.
func splitPhoneNumber(s, region string) (cc, national string) {
	if n, err := phonenumbers.Parse(s, strings.ToUpper(region)); err == nil {
		return strconv.Itoa(int(n.GetCountryCode())), phonenumbers.GetNationalSignificantNumber(n)
	}
	return "", phonenumbers.NormalizeDigitsOnly(s)
}

// cutLastFour splits digits into everything but the last four, and the last four.
func cutLastFour(digits string) (lead, last string) {
	if len(digits) <= 4 {
		return "", digits
	}
	return digits[:len(digits)-4], digits[len(digits)-4:]
}
