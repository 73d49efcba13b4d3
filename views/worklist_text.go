package views

// ItemStateText is how people read a worklist item's state.
func ItemStateText(state string) string {
	switch state {
	case "open":
		return "Open"
	case "update-requested":
		return "Update requested at the issuer"
	case "no-action":
		return "No action needed"
	case "escalated":
		return "Escalated to fraud"
	case "resolved":
		return "Resolved"
	}
	return state
}

// ReasonText is how people read a decision's reason code.
func ReasonText(reason string) string {
	switch reason {
	case "reopened":
		return "reopened"
	case "found-again":
		return "found again by a later scan"
	case "issuer-record-outdated":
		return "the issuer's record is out of date"
	case "directory-outdated":
		return "the directory's profile is out of date"
	case "customer-contacted":
		return "the customer was contacted"
	case "expected-difference":
		return "the difference is expected"
	case "format-only":
		return "only the format differs"
	case "customer-confirmed":
		return "the customer confirmed"
	case "suspected-fraud":
		return "suspected fraud"
	case "card-risk":
		return "a card at risk"
	case "contact-takeover":
		return "contact details may be taken over"
	case "updated-at-issuer":
		return "updated at the issuer"
	case "updated-in-directory":
		return "updated in the directory"
	case "card-removed":
		return "the card was removed"
	}
	return reason
}

// FindingKindText is how people read a finding kind.
func FindingKindText(kind string) string {
	switch kind {
	case "card-blocked-but-enrolled":
		return "Blocked or lost card still enrolled"
	case "card-unknown-to-issuer":
		return "Directory card unknown to the issuer"
	case "email-and-phone-changed":
		return "Email and phone changed in a directory"
	case "field-differs":
		return "A field differs"
	case "field-missing-in-directory":
		return "A field is missing in a directory"
	case "field-missing-at-issuer":
		return "A field is missing at the issuer"
	case "card-not-enrolled":
		return "Active card missing from its directory"
	case "consumer-without-card":
		return "Directory holds the consumer without a card"
	}
	return kind
}

// ScanStateText is how people read a scan's state.
func ScanStateText(state string) string {
	switch state {
	case "running":
		return "Running"
	case "cancelled":
		return "Cancelled"
	case "finished":
		return "Finished"
	}
	return state
}

// ScanLine is the customer page's sentence about the portfolio scans.
func ScanLine(scanned bool, lastScanned string, changed bool) string {
	switch {
	case !scanned:
		return "Not scanned yet."
	case changed:
		return "Last scanned " + lastScanned + ", changed since the last scan."
	}
	return "Last scanned " + lastScanned + ", unchanged since the last scan."
}

// ScanRunMeta is a run's line: who started it, when, and when it ended.
func ScanRunMeta(startedAt, startedBy, trigger, endedAt string) string {
	s := "started " + startedAt + " by " + startedBy + " (" + trigger + ")"
	if endedAt != "" {
		s += ", ended " + endedAt
	}
	return s
}
