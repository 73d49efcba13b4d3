// Package reconcile compares an issuer's record of a customer with the Click to Pay directory
// profiles D1 returns for that customer: one verdict per field and directory, a card matrix,
// and findings graded by how much they matter. It is pure: no I/O, no clock (the caller passes
// the time), so every rule is a table test away. It returns kinds, fields and values only; the
// words people read are made from them by the views package.
package reconcile

// Verdict is the outcome of comparing one field of the issuer record with one directory. The
// string values are a contract: the page prints them into data-verdict and tests select on
// them. These six are the only verdicts; a cell where no comparison happens carries a
// CellState instead.
type Verdict string

// Verdicts, as listed in DESIGN.md.
const (
	Match              Verdict = "match"
	Equivalent         Verdict = "equivalent"
	Differs            Verdict = "differs"
	MissingInDirectory Verdict = "missing-in-directory"
	MissingAtIssuer    Verdict = "missing-at-issuer"
	Unavailable        Verdict = "unavailable"
)

// Verdicts lists every verdict, for tests and for checks of what reaches the page.
func Verdicts() []Verdict {
	return []Verdict{Match, Equivalent, Differs, MissingInDirectory, MissingAtIssuer, Unavailable}
}

// IsDifference reports whether the verdict means the two sides disagree in substance: what the
// summary counts as a difference.
func (v Verdict) IsDifference() bool {
	switch v {
	case Differs, MissingInDirectory, MissingAtIssuer:
		return true
	}
	return false
}

// CellState marks a cell where no comparison happens, printed into data-state in place of a
// verdict.
type CellState string

// Cell states.
const (
	// NotProvided: the directory leaves out a field it is not required to hold (a middle name,
	// a card status, an address line 2, a cardholder name outside Visa). Not a difference.
	NotProvided CellState = "not-provided"
	// NotApplicable: the field has no place in this directory: another scheme's card, a card
	// this directory does not hold (the card matrix counts that once), or a directory that
	// holds no profile at all (its column state says which).
	NotApplicable CellState = "not-applicable"
)

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

// Part names a part of a contact value, so that a difference can be located without showing
// the values: an agent who sees two masked emails marked "differs" learns that the domains
// differ, or only what is hidden.
type Part string

// Parts of an email address and of a phone number.
const (
	PartLocal          Part = "local-part"
	PartDomain         Part = "domain"
	PartCountryCode    Part = "country-code"
	PartLeadingDigits  Part = "leading-digits"
	PartLastFourDigits Part = "last-four-digits"
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
	// StateNotRegistered: D1 does not know the consumer at all (it answered 404), so no
	// directory could be asked: a registration case, not an enrolment one.
	StateNotRegistered ColumnState = "not-registered"
	// StateUnavailable: D1 could not be asked and nothing usable was cached.
	StateUnavailable ColumnState = "unavailable"
)

// HasProfile reports whether a column holds a consumer profile to compare with.
func (s ColumnState) HasProfile() bool { return s == StateProfile || s == StateNoCard }
