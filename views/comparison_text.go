package views

import "strconv"

// plural writes a count with the right noun: "1 risk", "3 risks".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// severityLabel is a finding's severity in words.
func severityLabel(s string) string {
	switch s {
	case "risk":
		return "Risk"
	case "warn":
		return "Difference"
	}
	return "Note"
}

// presenceIcon is the symbol beside a card's presence in a directory; the text beside it says
// the same in words.
func presenceIcon(p string) string {
	switch p {
	case "present":
		return "●"
	case "absent":
		return "○"
	case "unavailable":
		return "⚠"
	}
	return "–"
}
