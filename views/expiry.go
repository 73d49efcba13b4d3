package views

import (
	"fmt"
	"strconv"
)

// Every screen writes a card's expiry one way, MM/YY, as it is embossed on the card: the
// issuer record's cards, the comparison grid's expiry rows and the card matrix all go through
// Expiry, so an agent reading a date aloud never converts between forms.

// Expiry writes an expiry in the MMYY form D1 and the comparison use as MM/YY. Any other form
// is returned as it came: a directory that sends "2028-03" is shown doing so, beside the
// "equivalent (format)" verdict that explains it.
func Expiry(mmyy string) string {
	if len(mmyy) != 4 || !isDigits(mmyy) {
		return mmyy
	}
	month, _ := strconv.Atoi(mmyy[:2])
	if month < 1 || month > 12 {
		return mmyy
	}
	return mmyy[:2] + "/" + mmyy[2:]
}

// ExpiryOf writes an expiry month and year (two or four digits) as MM/YY; "" when the month
// is not 1 to 12 or the year is negative, which no screen should dress up as a date.
func ExpiryOf(month, year int) string {
	if month < 1 || month > 12 || year < 0 {
		return ""
	}
	return Expiry(fmt.Sprintf("%02d%02d", month, year%100))
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
