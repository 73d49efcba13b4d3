package views

import (
	"fmt"
	"strconv"
	"strings"
)

// This file is the one home of the comparison's words. The reconcile package returns kinds,
// fields and values; the handlers pass them here and print what comes back, and the templates
// only print. Inputs are plain strings (kinds and codes as reconcile names them) because views
// imports no other ctpdesk package.

// plural writes a count with the right noun: "1 risk", "3 risks".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// DirectoryName is a directory's short name, as in a column header: "Visa". An unknown
// directory keeps D1's name (already made safe by the caller).
func DirectoryName(dir string) string {
	switch dir {
	case "VISA":
		return "Visa"
	case "MASTERCARD":
		return "Mastercard"
	}
	return dir
}

// DirectoryLongName is how people call a directory in a sentence: "Visa Click to Pay". A
// directory D1 named but ctpdesk does not know is set between first-strong and pop
// isolates (U+2068, U+2069), so that a right-to-left name cannot reorder the sentence around
// it; the caller has already shown any such character of D1's own as a code point.
func DirectoryLongName(dir string) string {
	name := DirectoryName(dir)
	if name == dir {
		name = "\u2068" + name + "\u2069"
	}
	return name + " Click to Pay"
}

// JoinNames lists names for a sentence: "Visa", "Visa and Mastercard", "A, B and C".
func JoinNames(names []string, conj string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + conj + " " + names[len(names)-1]
}

// FieldLabel is the human name of a field kind ("billing.postalCode" → "Billing postal code").
func FieldLabel(kind string) string {
	switch kind {
	case "firstName":
		return "First name"
	case "middleName":
		return "Middle name"
	case "lastName":
		return "Last name"
	case "email":
		return "Email"
	case "phone":
		return "Phone"
	case "language":
		return "Language"
	case "expiry":
		return "Expiry"
	case "cardholderName":
		return "Cardholder name"
	case "billing.line1":
		return "Billing address line 1"
	case "billing.line2":
		return "Billing address line 2"
	case "billing.line3":
		return "Billing address line 3"
	case "billing.city":
		return "Billing city"
	case "billing.region":
		return "Billing region"
	case "billing.postalCode":
		return "Billing postal code"
	case "billing.country":
		return "Billing country"
	case "status":
		return "Status"
	}
	return kind
}

// VerdictText is a verdict's icon and words; the colour comes from CSS, so no verdict is told
// by colour alone.
func VerdictText(verdict, reason string) (icon, label string) {
	switch verdict {
	case "match":
		return "✓", "Match"
	case "equivalent":
		return "≈", "Equivalent (" + reasonLabel(reason) + ")"
	case "differs":
		return "≠", "Differs"
	case "missing-in-directory":
		return "∅", "Missing in directory"
	case "missing-at-issuer":
		return "+", "Missing at issuer"
	case "unavailable":
		return "⚠", "Not checked"
	}
	return "?", verdict
}

// CellStateText is a cell state's icon and words.
func CellStateText(state string) (icon, label string) {
	switch state {
	case "not-provided":
		return "–", "Not provided by the directory"
	case "not-applicable":
		return "–", "Not applicable"
	}
	return "–", state
}

// reasonLabel is an equivalence reason in a few words.
func reasonLabel(r string) string {
	switch r {
	case "diacritics":
		return "accents"
	case "country-code":
		return "country code"
	case "language-format":
		return "language format"
	case "postal-format":
		return "postal format"
	case "":
		return "format"
	}
	return r
}

// reasonPhrase is an equivalence reason in a sentence.
func reasonPhrase(r string) string {
	switch r {
	case "whitespace":
		return "spacing"
	case "case":
		return "upper and lower case"
	case "diacritics":
		return "accents (diacritics)"
	case "country-code":
		return "the country code form (alpha-2 or alpha-3)"
	case "language-format":
		return "how the language code is written"
	case "postal-format":
		return "spacing or case of the postal code"
	}
	return "format"
}

// DiffersInText locates a difference inside an email or phone number without showing either
// value: "in the domain", "in the hidden digits (the last four are the same)". Parts are
// reconcile's: local-part, domain, country-code, leading-digits, last-four-digits.
func DiffersInText(parts []string) string {
	has := map[string]bool{}
	for _, p := range parts {
		has[p] = true
	}
	var words []string
	switch {
	case has["local-part"] && has["domain"]:
		words = append(words, "the part before @ and the domain")
	case has["local-part"]:
		words = append(words, "the part before @ (the domain is the same)")
	case has["domain"]:
		words = append(words, "the domain")
	}
	if has["country-code"] {
		words = append(words, "the country code")
	}
	switch {
	case has["leading-digits"] && has["last-four-digits"]:
		words = append(words, "the number itself")
	case has["leading-digits"]:
		words = append(words, "the hidden digits (the last four are the same)")
	case has["last-four-digits"]:
		words = append(words, "the last four digits")
	}
	if len(words) == 0 {
		return ""
	}
	return "in " + JoinNames(words, "and in")
}

// ColumnStateLabel is what a column header says about its directory.
func ColumnStateLabel(state string) string {
	switch state {
	case "profile":
		return "Profile"
	case "no-card":
		return "Consumer with no card"
	case "not-enrolled":
		return "Not enrolled"
	case "not-registered":
		return "Not registered at D1"
	case "unavailable":
		return "Not checked"
	}
	return state
}

// ColumnExplain is the one cell a directory without a profile shows in place of its rows.
func ColumnExplain(state, dir string) string {
	name := DirectoryLongName(dir)
	switch state {
	case "not-enrolled":
		return "Not enrolled: D1 answered, and " + name + " holds nothing for this customer."
	case "not-registered":
		return "Not registered at D1: D1 does not know this consumer, so " + name + " was not asked."
	case "unavailable":
		return name + " could not be checked: nothing here is known to match or differ."
	}
	return ""
}

// AgeText writes an age for people: "45 seconds", "3 minutes", "2 hours".
func AgeText(seconds int64) string {
	switch {
	case seconds < 120:
		return fmt.Sprintf("%d seconds", max(seconds, 0))
	case seconds < 2*3600:
		return fmt.Sprintf("%d minutes", seconds/60)
	}
	return fmt.Sprintf("%d hours", seconds/3600)
}

// StaleText is a cached column's badge.
func StaleText(ageSeconds int64) string { return "Stale: " + AgeText(ageSeconds) + " old" }

// ErrorClassText is a D1 error class in words.
func ErrorClassText(class string) string {
	switch class {
	case "timeout":
		return "D1 did not answer in time"
	case "unavailable":
		return "D1 is unavailable"
	case "rate-limited":
		return "D1 asked ctpdesk to slow down"
	case "circuit-open":
		return "calls to D1 are paused after repeated failures"
	case "bad-response":
		return "D1 sent an answer ctpdesk cannot read"
	case "bad-request":
		return "D1 refused the request"
	case "unauthorized", "forbidden":
		return "D1 refused ctpdesk's credentials"
	case "invalid-request":
		return "the customer's D1 consumer id is not valid"
	case "not-configured":
		return "no D1 connection is configured"
	case "canceled":
		return "the request was cancelled"
	}
	return "D1 failed (" + class + ")"
}

// ColumnErrorDetail is an unavailable column's detail: the class and when ctpdesk gave up.
func ColumnErrorDetail(class, at string) string {
	s := ErrorClassText(class)
	if at != "" {
		s += " · gave up at " + at
	}
	return s
}

// UnavailableOutcome says first, above everything, that directories could not be checked.
func UnavailableOutcome(dirs []string, class, at, correlationID string, checkedAny bool) ComparisonOutcome {
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = DirectoryName(d)
	}
	o := ComparisonOutcome{
		Kind:          "unavailable",
		Title:         JoinNames(names, "and") + " could not be checked",
		Detail:        ErrorClassText(class),
		CorrelationID: correlationID,
		RetryLabel:    "Retry",
	}
	if at != "" {
		o.Detail += "; ctpdesk gave up at " + at
	}
	o.Detail += "."
	if checkedAny {
		o.NextStep = "The counts below cover only the directories that answered."
	} else {
		o.NextStep = "Nothing was compared, so there are no counts: this is not an all-clear. Retry, or give D1 support the correlation id if it goes on."
	}
	return o
}

// NotRegisteredOutcome says that D1 does not know the consumer at all.
func NotRegisteredOutcome(consumerID, correlationID string) ComparisonOutcome {
	return ComparisonOutcome{
		Kind:          "not-registered",
		Title:         "Not registered at D1",
		Detail:        "D1 does not know the consumer id " + consumerID + " (it answered 404), so no Click to Pay directory was asked.",
		CorrelationID: correlationID,
		NextStep:      "This is a registration case, not an enrolment one: the consumer was never registered with D1 or was deleted there. Registration goes through the issuer's D1 process.",
	}
}

// SummaryScope says what the counts cover.
func SummaryScope(dirs []string) string {
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = DirectoryName(d)
	}
	return "Compared with " + JoinNames(names, "and")
}

// NotEnrolledNote names the directories that hold nothing, or says the customer is enrolled
// nowhere.
func NotEnrolledNote(dirs []string, anywhere bool) string {
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = DirectoryName(d)
	}
	if !anywhere {
		return "Not enrolled in any Click to Pay directory (" + JoinNames(names, "or") + "): D1 answered with no profile."
	}
	return "Not enrolled in " + JoinNames(names, "or") + "."
}

// StaleNote says that counts come from a cached answer.
func StaleNote(ageSeconds int64, correlationID string) string {
	s := "D1 could not be reached just now: this is its answer from " + AgeText(ageSeconds) + " ago"
	if correlationID != "" {
		s += " (correlation id " + correlationID + ")"
	}
	return s + "."
}

// Counts words the summary's numbers.
func Counts(differences, equivalents, risks int) (d, e, r string) {
	return plural(differences, "difference", "differences"),
		plural(equivalents, "equivalent value", "equivalent values"),
		plural(risks, "risk", "risks")
}

// SeverityLabel is a finding's severity in words.
func SeverityLabel(s string) string {
	switch s {
	case "risk":
		return "Risk"
	case "warn":
		return "Difference"
	}
	return "Note"
}

// FindingFacts is a finding as reconcile returns it, with the strings made safe to print.
type FindingFacts struct {
	Kind      string
	Directory string
	FieldKind string
	// CardField is true for a field of a card (then Last4 names the card).
	CardField    bool
	Last4        string
	IssuerStatus string
	Reason       string
	DiffersIn    []string
}

// cardLabel names a card by its last four digits only.
func cardLabel(last4 string) string {
	if last4 == "" {
		return "A card with no number"
	}
	return "Card •••• " + last4
}

// statusPhrase is a card status in a sentence: "reported stolen", "blocked".
func statusPhrase(s string) string {
	switch s {
	case "lost":
		return "reported lost"
	case "stolen":
		return "reported stolen"
	}
	return s
}

// FindingSentence is a finding in plain language. It names fields, directories and last 4
// only, never contact data, so it is safe for every role.
func FindingSentence(f FindingFacts) string {
	dir := DirectoryLongName(f.Directory)
	label := FieldLabel(f.FieldKind)
	if f.CardField {
		label = cardLabel(f.Last4) + ": " + strings.ToLower(label)
	}
	where := ""
	if w := DiffersInText(f.DiffersIn); w != "" {
		where = " " + w
	}
	switch f.Kind {
	case "card-blocked-but-enrolled":
		return fmt.Sprintf("%s is %s at the issuer but still enrolled in %s.", cardLabel(f.Last4), statusPhrase(f.IssuerStatus), dir)
	case "card-unknown-to-issuer":
		return fmt.Sprintf("%s is enrolled in %s but unknown to the issuer.", cardLabel(f.Last4), dir)
	case "email-and-phone-changed":
		return fmt.Sprintf("Email and phone both differ in %s from the issuer's record: the directory's contact details may have been taken over.", dir)
	case "card-not-enrolled":
		return fmt.Sprintf("%s is active at the issuer but not enrolled in %s.", cardLabel(f.Last4), dir)
	case "field-differs":
		return fmt.Sprintf("%s differs between the issuer and %s%s.", label, dir, where)
	case "field-missing-in-directory":
		return fmt.Sprintf("%s is held by the issuer but missing in %s.", label, dir)
	case "field-missing-at-issuer":
		return fmt.Sprintf("%s is held by %s but not by the issuer.", label, dir)
	case "field-equivalent":
		return fmt.Sprintf("%s in %s differs from the issuer's only in %s.", label, dir, reasonPhrase(f.Reason))
	}
	return f.Kind + " (" + dir + ")"
}

// NextStep is what the issuer's staff do about a risk. ctpdesk is read-only towards D1, so
// every step goes through the issuer's own D1 process.
func NextStep(kind, dir string) string {
	name := DirectoryLongName(dir)
	switch kind {
	case "card-blocked-but-enrolled":
		return "Next step: opt the card out of " + name + " through the issuer's D1 process (D1 opt-out card). Until then the card can still be offered at checkout."
	case "card-unknown-to-issuer":
		return "Next step: escalate to fraud. If the issuer never issued this card, have it opted out of " + name + " through the issuer's D1 process and give D1 support the correlation id."
	case "email-and-phone-changed":
		return "Next step: treat it as a possible account takeover. Confirm the contact details with the customer through a channel on the issuer's record, escalate to fraud, and update " + name + " through the issuer's D1 process only once confirmed."
	}
	return ""
}

// CaseFacts are the identifiers a case summary holds: no name, email, phone or address.
type CaseFacts struct {
	CustomerID    string
	ConsumerID    string
	Directory     string
	CardKey       string
	Last4         string
	Kind          string
	Severity      string
	Finding       string
	NextStep      string
	CorrelationID string
}

// CaseSummary is the text an agent copies into a case: identifiers, the directory, the finding
// and the D1 correlation id, one per line, and nothing that identifies the person.
func CaseSummary(c CaseFacts) string {
	lines := []string{
		"ctpdesk finding: " + c.Kind + " (" + c.Severity + ")",
		"Customer id: " + c.CustomerID,
		"D1 consumer id: " + c.ConsumerID,
		"Directory: " + c.Directory,
	}
	if c.CardKey != "" {
		card := "Card id: " + c.CardKey
		if c.Last4 != "" {
			card += " (•••• " + c.Last4 + ")"
		}
		lines = append(lines, card)
	}
	lines = append(lines, "Finding: "+c.Finding)
	if c.CorrelationID != "" {
		lines = append(lines, "D1 correlation id: "+c.CorrelationID)
	}
	if c.NextStep != "" {
		lines = append(lines, c.NextStep)
	}
	return strings.Join(lines, "\n")
}

// CaseSummaryTitle heads a risk's case summary.
func CaseSummaryTitle() string { return "Case summary (identifiers only, no personal data)" }

// CopyCaseLabel is the case summary's copy button, and what it says once the text is copied.
func CopyCaseLabel() (label, done string) { return "Copy case summary", "Copied" }

// Card matrix words.

// CardIssuerText is the issuer's cell of a card: its status and expiry, or that the issuer
// does not hold it.
func CardIssuerText(atIssuer bool, status, expiryMMYY string) string {
	if !atIssuer {
		return "Not held by the issuer"
	}
	s := "Unknown status"
	if status != "" {
		s = strings.ToUpper(status[:1]) + status[1:]
	}
	return s + ExpiryText(expiryMMYY)
}

// ExpiryText ends a card matrix cell with its expiry, " · expires MM/YY" (see Expiry); ""
// when there is none.
func ExpiryText(mmyy string) string {
	if mmyy == "" {
		return ""
	}
	return " · expires " + Expiry(mmyy)
}

// CardTitle heads a card's rows in the grid: its last 4, scheme and issuer status.
func CardTitle(last4, scheme, issuerStatus string) string {
	t := "Card •••• " + last4
	if scheme != "" {
		t += " · " + DirectoryName(scheme)
	}
	return t + " · " + issuerStatus + " at the issuer"
}

// CardPresenceText is one directory's cell of the card matrix: its presence code (data-
// presence), icon and words. status and expiry are the directory's, already made safe.
func CardPresenceText(presence, status, expiry, issuerStatus string) (icon, text string) {
	switch presence {
	case "present":
		text = "Enrolled"
		if status != "" {
			text += " · " + status
		}
		return "●", text + ExpiryText(expiry)
	case "absent":
		if issuerStatus != "" && issuerStatus != "active" {
			return "○", "Not enrolled (as expected: " + issuerStatus + " at the issuer)"
		}
		return "○", "Not enrolled"
	case "unavailable":
		return "⚠", "Not checked"
	case "no-profile":
		return "–", "No profile"
	}
	return "–", "Not applicable"
}

// CardDifferenceText says why a card-matrix cell is a difference: it counts once.
func CardDifferenceText(kind string) string {
	switch kind {
	case "card-unknown-to-issuer":
		return "One difference: the issuer does not hold this card"
	case "card-not-enrolled":
		return "One difference: active at the issuer, not enrolled here"
	}
	return ""
}

// CardFieldsTitle heads the reference fields of a card the issuer does not hold.
func CardFieldsTitle(dir string) string {
	return "What " + DirectoryName(dir) + " holds (for reference, not compared)"
}

// Page words.

// ToggleLabel is the differences-only switch's label.
func ToggleLabel(diffOnly bool) string {
	if diffOnly {
		return "Show all fields"
	}
	return "Show differences only"
}

// GridCaption is the grid's caption.
func GridCaption() string { return "Issuer record beside each Click to Pay directory" }

// HiddenRowsNote says how many rows "differences only" hides.
func HiddenRowsNote(n int) string {
	return "— differences only; " + plural(n, "row", "rows") + " without a difference hidden"
}

// NothingDiffersText replaces the grid's rows when differences only leaves none of the
// fields compared: "All 16 fields match". partial says a directory holds no profile to compare
// (not enrolled, or not checked), so the match covers only the others.
func NothingDiffersText(fields int, partial bool) string {
	s := "All " + plural(fields, "field", "fields") + " match"
	if fields == 1 {
		s = "The one field compared matches"
	}
	if partial {
		s += " in the directories that were compared"
	}
	return s + "."
}

// MaskedNote says contact data is masked for the viewer's role.
func MaskedNote() string { return "Contact details are masked for your role." }

// OtherFindingsTitle heads the findings that are not risks.
func OtherFindingsTitle(n int) string { return plural(n, "other finding", "other findings") }

// RisksTitle heads the risks.
func RisksTitle(n int) string { return plural(n, "risk", "risks") + " found" }

// RefreshLimitNotice is said when a refresh was refused.
func RefreshLimitNotice(limit, waitSeconds int) string {
	return "Refresh limit reached (" + strconv.Itoa(limit) + " a minute): showing the cached answer. Try again in " + strconv.Itoa(waitSeconds) + " s."
}

// RefreshedNotice is said after a refresh.
func RefreshedNotice() string { return "Refreshed from D1." }

// CardsCaption is the card matrix's caption.
func CardsCaption() string { return "Cards at the issuer and in each directory" }

// ConsumerGroupTitle heads the consumer's rows.
func ConsumerGroupTitle() string { return "Consumer" }

// NoValueText is read out for an empty cell.
func NoValueText() string { return "no value" }

// CutValueText says how much of a very long value is left out.
func CutValueText(n int) string { return fmt.Sprintf("… (%d more characters)", n) }
