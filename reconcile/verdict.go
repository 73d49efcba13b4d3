// Package reconcile compares an issuer's record of a customer with the Click to Pay directory
// profiles D1 returns for that customer: one verdict per field and directory, a card matrix,
// and findings graded by how much they matter. It is pure: no I/O, no clock (the caller passes
// the time), so every rule is a table test away.
package reconcile

// Verdict is the outcome of comparing one field of the issuer record with one directory. The
// string values are a contract: the page prints them into data-verdict and tests select on them.
type Verdict string

// Verdicts, as listed in DESIGN.md, plus NotApplicable for a card cell in a directory the card
// does not belong to (a Visa card has no place in the Mastercard directory).
const (
	Match              Verdict = "match"
	Equivalent         Verdict = "equivalent"
	Differs            Verdict = "differs"
	MissingInDirectory Verdict = "missing-in-directory"
	MissingAtIssuer    Verdict = "missing-at-issuer"
	Unavailable        Verdict = "unavailable"
	NotApplicable      Verdict = "not-applicable"
)

// IsDifference reports whether the verdict means the two sides disagree in substance, which is
// what the "Differences only" view keeps. Equivalent values are kept as well, because an agent
// should see what only looks different.
func (v Verdict) IsDifference() bool {
	switch v {
	case Differs, MissingInDirectory, MissingAtIssuer, Equivalent:
		return true
	}
	return false
}

// Reason names why two values that are not byte-for-byte equal are still Equivalent.
type Reason string

// Reasons for an Equivalent verdict. Only the last normalising step that was needed is named:
// "Zoe " against "zoë" is diacritics, not whitespace.
const (
	ReasonNone           Reason = ""
	ReasonWhitespace     Reason = "whitespace"
	ReasonCase           Reason = "case"
	ReasonDiacritics     Reason = "diacritics"
	ReasonFormat         Reason = "format"
	ReasonCountryCode    Reason = "country-code"
	ReasonLanguageFormat Reason = "language-format"
	ReasonPostalFormat   Reason = "postal-format"
)

// Severity grades a finding.
type Severity string

// Severities, most urgent first.
const (
	SeverityRisk Severity = "risk"
	SeverityWarn Severity = "warn"
	SeverityInfo Severity = "info"
)

// rank orders severities for sorting: lower is more urgent.
func (s Severity) rank() int {
	switch s {
	case SeverityRisk:
		return 0
	case SeverityWarn:
		return 1
	}
	return 2
}

// ColumnState says what a directory column is, before any field is compared.
type ColumnState string

// Column states. A stale column is still one of these; Column.Stale says so separately.
const (
	// StateProfile: the directory holds a profile with at least one card.
	StateProfile ColumnState = "profile"
	// StateNoCard: the directory holds the consumer but no card (a failed card enrolment).
	StateNoCard ColumnState = "no-card"
	// StateNotEnrolled: D1 answered and this directory holds nothing for the consumer.
	StateNotEnrolled ColumnState = "not-enrolled"
	// StateUnavailable: D1 could not be asked and nothing usable was cached.
	StateUnavailable ColumnState = "unavailable"
)
