package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"ctpdesk/issuerdb"
)

// Finding kinds: stable codes a script can filter on.
const (
	KindCardBlockedButEnrolled = "card-blocked-but-enrolled"
	KindCardUnknownToIssuer    = "card-unknown-to-issuer"
	KindContactTakeover        = "email-and-phone-changed"
	KindFieldDiffers           = "field-differs"
	KindFieldMissing           = "field-missing-in-directory"
	KindFieldMissingAtIssuer   = "field-missing-at-issuer"
	KindFieldEquivalent        = "field-equivalent"
	KindCardNotEnrolled        = "card-not-enrolled"
	KindNotEnrolled            = "not-enrolled"
	KindNoCard                 = "consumer-without-card"
	KindStale                  = "stale"
	KindUnavailable            = "unavailable"
)

// FieldLabel is the human name of a field kind ("billing.postalCode" → "Billing postal code").
func FieldLabel(kind string) string {
	switch kind {
	case FieldFirstName:
		return "First name"
	case FieldMiddleName:
		return "Middle name"
	case FieldLastName:
		return "Last name"
	case FieldEmail:
		return "Email"
	case FieldPhone:
		return "Phone"
	case FieldLanguage:
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

// DirectoryName is how people call a directory: "Visa Click to Pay". Unknown directories keep
// D1's name.
func DirectoryName(dir string) string {
	switch dir {
	case "VISA":
		return "Visa Click to Pay"
	case "MASTERCARD":
		return "Mastercard Click to Pay"
	}
	return dir + " Click to Pay"
}

// cardLabel names a card by its last four digits only.
func cardLabel(last4 string) string {
	if last4 == "" {
		return "A card with no number"
	}
	return "Card •••• " + last4
}

// riskyIssuerStatus reports whether a card in this issuer state must not be usable through a
// directory. A blocked card the directory holds as SUSPENDED is not a risk: the directory
// mirrors the block (see usableInDirectory).
func riskyIssuerStatus(s string) bool {
	switch issuerdb.CardStatus(s) {
	case issuerdb.CardLost, issuerdb.CardStolen, issuerdb.CardBlocked, issuerdb.CardClosed:
		return true
	}
	return false
}

// statusPhrase is a card status in a sentence: "reported stolen", "blocked".
func statusPhrase(s string) string {
	switch issuerdb.CardStatus(s) {
	case issuerdb.CardLost:
		return "reported lost"
	case issuerdb.CardStolen:
		return "reported stolen"
	}
	return s
}

// findings grades what the comparison found, risks first, in the column order within a grade.
func findings(rec issuerdb.Customer, cmp Comparison) []Finding {
	var out []Finding
	add := func(f Finding) { out = append(out, f) }
	for ci, col := range cmp.Columns {
		name := DirectoryName(col.Directory)
		switch col.State {
		case StateUnavailable:
			add(Finding{Severity: SeverityWarn, Kind: KindUnavailable, Directory: col.Directory,
				Message: fmt.Sprintf("%s could not be checked: D1 did not answer (%s).", name, orUnknown(col.ErrorClass))})
			continue
		case StateNotEnrolled:
			add(Finding{Severity: SeverityInfo, Kind: KindNotEnrolled, Directory: col.Directory,
				Message: fmt.Sprintf("Not enrolled in %s.", name)})
		case StateNoCard:
			add(Finding{Severity: SeverityWarn, Kind: KindNoCard, Directory: col.Directory,
				Message: fmt.Sprintf("%s holds this consumer but no card: a card enrolment may have failed.", name)})
		}
		if col.Stale {
			add(Finding{Severity: SeverityWarn, Kind: KindStale, Directory: col.Directory,
				Message: fmt.Sprintf("%s data is %s old: D1 could not be reached just now.", name, ageText(col.AgeSeconds))})
		}
		cardFindings(cmp, ci, add)
		if hasProfile(col) {
			consumerFindings(cmp, ci, add)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Severity.rank() - b.Severity.rank() })
	return out
}

// consumerFindings reports the person fields of one directory column.
func consumerFindings(cmp Comparison, ci int, add func(Finding)) {
	col := cmp.Columns[ci]
	name := DirectoryName(col.Directory)
	changed := map[string]bool{}
	for _, r := range cmp.Rows {
		if r.CardKey != "" {
			continue
		}
		c := r.Cells[ci]
		if c.Verdict == Differs {
			changed[r.Field] = true
		}
		if f, ok := fieldFinding(FieldLabel(r.Kind), name, c); ok {
			f.Directory, f.Field = col.Directory, r.Field
			add(f)
		}
	}
	if changed[FieldEmail] && changed[FieldPhone] {
		add(Finding{Severity: SeverityRisk, Kind: KindContactTakeover, Directory: col.Directory, Field: FieldEmail + "," + FieldPhone,
			Message: fmt.Sprintf("Email and phone both differ in %s from the issuer's record: the directory's contact details may have been taken over.", name)})
	}
}

// fieldFinding turns one compared cell into a finding, if it deserves one.
func fieldFinding(label, dirName string, c Cell) (Finding, bool) {
	switch c.Verdict {
	case Differs:
		return Finding{Severity: SeverityWarn, Kind: KindFieldDiffers,
			Message: fmt.Sprintf("%s differs between the issuer and %s.", label, dirName)}, true
	case MissingInDirectory:
		return Finding{Severity: SeverityWarn, Kind: KindFieldMissing,
			Message: fmt.Sprintf("%s is held by the issuer but missing in %s.", label, dirName)}, true
	case MissingAtIssuer:
		return Finding{Severity: SeverityWarn, Kind: KindFieldMissingAtIssuer,
			Message: fmt.Sprintf("%s is held by %s but not by the issuer.", label, dirName)}, true
	case Equivalent:
		return Finding{Severity: SeverityInfo, Kind: KindFieldEquivalent,
			Message: fmt.Sprintf("%s in %s differs from the issuer's only in %s.", label, dirName, reasonText(c.Reason))}, true
	}
	return Finding{}, false
}

// cardFindings reports the cards of one directory column: risks from the card matrix, then the
// fields of cards both sides hold.
func cardFindings(cmp Comparison, ci int, add func(Finding)) {
	col := cmp.Columns[ci]
	name := DirectoryName(col.Directory)
	risky := map[string]bool{}
	for _, card := range cmp.Cards {
		cell := card.Directories[ci]
		label := cardLabel(card.Last4)
		switch {
		case cell.Present && !card.AtIssuer:
			add(Finding{Severity: SeverityRisk, Kind: KindCardUnknownToIssuer, Directory: col.Directory, CardKey: card.Key,
				Message: fmt.Sprintf("%s is enrolled in %s but unknown to the issuer.", label, name)})
			risky[card.Key] = true
		case cell.Present && riskyIssuerStatus(card.IssuerStatus) && usableInDirectory(card.IssuerStatus, cell.Status):
			add(Finding{Severity: SeverityRisk, Kind: KindCardBlockedButEnrolled, Directory: col.Directory, CardKey: card.Key,
				Message: fmt.Sprintf("%s is %s at the issuer but still enrolled in %s.", label, statusPhrase(card.IssuerStatus), name)})
			risky[card.Key] = true
		case !cell.Present && cell.Relevant && hasProfile(col) && card.IssuerStatus == string(issuerdb.CardActive):
			add(Finding{Severity: SeverityInfo, Kind: KindCardNotEnrolled, Directory: col.Directory, CardKey: card.Key,
				Message: fmt.Sprintf("%s is active at the issuer but not enrolled in %s.", label, name)})
		}
	}
	last4 := map[string]string{}
	present := map[string]bool{}
	for _, card := range cmp.Cards {
		last4[card.Key] = card.Last4
		present[card.Key] = card.AtIssuer && card.Directories[ci].Present
	}
	for _, r := range cmp.Rows {
		if r.CardKey == "" || !present[r.CardKey] || (risky[r.CardKey] && r.Kind == "status") {
			continue
		}
		if f, ok := fieldFinding(cardLabel(last4[r.CardKey])+": "+strings.ToLower(FieldLabel(r.Kind)), name, r.Cells[ci]); ok {
			f.Directory, f.Field, f.CardKey = col.Directory, r.Field, r.CardKey
			add(f)
		}
	}
}

// reasonText is an Equivalent reason in a sentence.
func reasonText(r Reason) string {
	switch r {
	case ReasonWhitespace:
		return "spacing"
	case ReasonCase:
		return "upper and lower case"
	case ReasonDiacritics:
		return "accents (diacritics)"
	case ReasonCountryCode:
		return "the country code form (alpha-2 or alpha-3)"
	case ReasonLanguageFormat:
		return "how the language code is written"
	case ReasonPostalFormat:
		return "spacing or case of the postal code"
	}
	return "format"
}

// ageText writes an age for people: "45 seconds", "3 minutes", "2 hours".
func ageText(seconds int64) string {
	switch {
	case seconds < 120:
		return fmt.Sprintf("%d seconds", max(seconds, 0))
	case seconds < 2*3600:
		return fmt.Sprintf("%d minutes", seconds/60)
	}
	return fmt.Sprintf("%d hours", seconds/3600)
}

// orUnknown keeps a sentence readable when a value is missing.
func orUnknown(s string) string {
	if s == "" {
		return "unknown error"
	}
	return s
}

// summarize counts the comparison's verdicts and findings.
func summarize(cmp Comparison) Summary {
	s := Summary{Directories: len(cmp.Columns)}
	for ci, col := range cmp.Columns {
		if col.State != StateUnavailable && !col.Stale {
			s.Reached++
		}
		if !hasProfile(col) {
			continue
		}
		s.Enrolled++
		for _, r := range cmp.Rows {
			switch r.Cells[ci].Verdict {
			case Differs, MissingInDirectory, MissingAtIssuer:
				s.Differences++
			case Equivalent:
				s.Equivalents++
			}
		}
	}
	for _, f := range cmp.Findings {
		switch f.Severity {
		case SeverityRisk:
			s.Risks++
		case SeverityWarn:
			s.Warnings++
		}
	}
	return s
}
