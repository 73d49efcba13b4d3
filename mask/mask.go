// Package mask hides most of a customer's contact data for display: enough is left to
// confirm with the customer on the phone ("the address starting with j at example.com, the
// mobile ending 0123"), not enough to copy it. Search results and the comparison page use
// the same functions, so a value looks the same masked everywhere.
package mask

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Dot is the character that stands for a hidden character.
const Dot = "•"

// MaskEmail keeps the first character of the local part and the whole domain:
// "john@example.com" -> "j•••@example.com". The number of dots is fixed, so the length of
// the address is not revealed. A value without a domain keeps only its first character.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	local, domain, hasDomain := strings.Cut(email, "@")
	if !hasDomain {
		local = email
	}
	first := ""
	if local != "" {
		r, _ := utf8.DecodeRuneInString(local)
		if r != utf8.RuneError {
			first = string(r)
		}
	}
	masked := first + strings.Repeat(Dot, 3)
	if hasDomain {
		masked += "@" + domain
	}
	return masked
}

// MaskPhone keeps the country calling code and the last four digits of an E.164 number and
// hides the rest: "+447700900123" -> "+44 •••• ••0123". A number that does not parse keeps
// only its last four digits; one of four digits or fewer is hidden entirely.
func MaskPhone(e164 string) string {
	if masked, ok := maskCanonical(e164); ok {
		return masked
	}
	return maskParsed(e164)
}

// maskCanonical masks a number written as stored, "+" and ASCII digits, without the full
// phone-number parse: for such a number the parse takes the calling code to be the shortest
// prefix of one to three digits that is an assigned code, and it succeeds when two to
// seventeen digits follow (its other checks, and the national prefix it may strip, do not
// change what is shown). ok is false for anything else, which maskParsed handles.
func maskCanonical(s string) (masked string, ok bool) {
	if len(s) < 2 || s[0] != '+' || s[1] == '0' {
		return "", false
	}
	digits := s[1:]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	codes := phonenumbers.GetSupportedCallingCodes()
	for n := 1; n <= 3 && n < len(digits); n++ {
		cc, _ := strconv.Atoi(digits[:n])
		if !codes[cc] {
			continue
		}
		national := len(digits) - n
		if national < 2 || national > 17 {
			return "", false
		}
		return maskInternational(digits[:n], digits[n:]), true
	}
	return "", false
}

// maskParsed masks any text through the full phone-number parse.
func maskParsed(e164 string) string {
	if e164 == "" {
		return ""
	}
	digits := onlyDigits(e164)
	num, err := phonenumbers.Parse(e164, "")
	if err != nil || !strings.HasPrefix(e164, "+") {
		if len(digits) <= 4 {
			return strings.Repeat(Dot, max(len(digits), 4))
		}
		return strings.Repeat(Dot, len(digits)-4) + digits[len(digits)-4:]
	}
	cc := strconv.Itoa(int(num.GetCountryCode()))
	return maskInternational(cc, strings.TrimPrefix(digits, cc))
}

// maskInternational shows the calling code cc and the last four of the national digits.
func maskInternational(cc, national string) string {
	if len(national) <= 4 {
		return "+" + cc + " " + strings.Repeat(Dot, 4)
	}
	hidden := len(national) - 4
	tail := strings.Repeat(Dot, min(hidden, 2)) + national[len(national)-4:]
	if hidden <= 2 {
		return "+" + cc + " " + tail
	}
	return "+" + cc + " " + strings.Repeat(Dot, hidden-2) + " " + tail
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
