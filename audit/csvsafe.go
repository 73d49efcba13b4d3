package audit

import (
	"strings"
	"unicode"
)

// A spreadsheet that opens the export runs any cell starting with a formula character
// (CSV or formula injection), and a user agent, a name or a request value can start with one.
// Following OWASP's guidance, such a cell gets a leading single quote, which spreadsheets take
// as "this is text" and do not show. Three refinements close the gaps of a first-character
// check:
//   - leading whitespace does not hide the formula: " =1+1" is defused too, since spreadsheets
//     trim it or (with a leading tab or carriage return) start a new cell;
//   - the fullwidth forms ＝ ＋ － ＠ count, which some spreadsheets read as their ASCII twins;
//   - a cell is checked again after every separator-like character inside it (, ; | tab, CR,
//     LF), because a spreadsheet importing with another separator than ours splits the cell
//     there and the second part would start with the formula.

// formulaStart reports whether r makes a spreadsheet evaluate the cell it starts.
func formulaStart(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠':
		return true
	}
	return false
}

// cellSeparator reports whether a spreadsheet may start a new cell at r.
func cellSeparator(r rune) bool {
	switch r {
	case ',', ';', '|', '\t', '\r', '\n', '，', '；':
		return true
	}
	return false
}

// leadingSpace is whitespace a spreadsheet may skip before the content of a cell, the
// invisible format characters (zero-width space, byte order mark…) included.
func leadingSpace(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// defuseFormula returns s with a single quote before every part a spreadsheet would run as a
// formula: at the start of the cell (before any leading whitespace) and after each separator.
func defuseFormula(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	runes := []rune(s)
	segmentStart := true
	for i, r := range runes {
		// A run of separators is one break: the part after the last one is what is checked.
		if segmentStart && (i == 0 || !cellSeparator(r)) {
			segmentStart = false
			if dangerousSegment(runes[i:], i == 0) {
				b.WriteByte('\'')
			}
		}
		b.WriteRune(r)
		if cellSeparator(r) {
			segmentStart = true
		}
	}
	return b.String()
}

// dangerousSegment reports whether the cell part starting at seg would be run as a formula:
// its first character past leading whitespace starts one, or (for the whole cell) it starts
// with a tab or carriage return.
func dangerousSegment(seg []rune, wholeCell bool) bool {
	if wholeCell && (seg[0] == '\t' || seg[0] == '\r') {
		return true
	}
	for _, r := range seg {
		if leadingSpace(r) {
			continue
		}
		return formulaStart(r)
	}
	return false
}
