package reconcile

import (
	"slices"

	"ctpdesk/issuerdb"
)

// Finding kinds: stable codes a script can filter on and the views package words.
const (
	KindCardBlockedButEnrolled = "card-blocked-but-enrolled"
	KindCardUnknownToIssuer    = "card-unknown-to-issuer"
	KindContactTakeover        = "email-and-phone-changed"
	KindFieldDiffers           = "field-differs"
	KindFieldMissing           = "field-missing-in-directory"
	KindFieldMissingAtIssuer   = "field-missing-at-issuer"
	KindFieldEquivalent        = "field-equivalent"
	KindCardNotEnrolled        = "card-not-enrolled"
)

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

// findings grades what the comparison found in the directories that hold a profile, risks
// first, in the column order within a grade. What a column is (not enrolled, unavailable,
// stale) is its state, not a finding.
func findings(cmp Comparison) []Finding {
	var out []Finding
	add := func(f Finding) { out = append(out, f) }
	for ci, col := range cmp.Columns {
		if !hasProfile(col) {
			continue
		}
		cardFindings(cmp, ci, add)
		consumerFindings(cmp, ci, add)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Severity.rank() - b.Severity.rank() })
	return out
}

// consumerFindings reports the person fields of one directory column.
func consumerFindings(cmp Comparison, ci int, add func(Finding)) {
	col := cmp.Columns[ci]
	changed := map[string]bool{}
	for _, r := range cmp.Rows {
		if r.CardKey != "" {
			continue
		}
		c := r.Cells[ci]
		if c.Verdict == Differs {
			changed[r.Field] = true
		}
		if f, ok := fieldFinding(c); ok {
			f.Directory, f.Field, f.FieldKind = col.Directory, r.Field, r.Kind
			add(f)
		}
	}
	if changed[FieldEmail] && changed[FieldPhone] {
		add(Finding{Severity: SeverityRisk, Kind: KindContactTakeover, Directory: col.Directory,
			Field: FieldEmail + "," + FieldPhone, FieldKind: FieldEmail})
	}
}

// fieldFinding turns one compared cell into a finding, if it deserves one.
func fieldFinding(c Cell) (Finding, bool) {
	f := Finding{Severity: SeverityWarn, Reason: c.Reason, DiffersIn: c.DiffersIn}
	switch c.Verdict {
	case Differs:
		f.Kind = KindFieldDiffers
	case MissingInDirectory:
		f.Kind = KindFieldMissing
	case MissingAtIssuer:
		f.Kind = KindFieldMissingAtIssuer
	case Equivalent:
		f.Severity, f.Kind = SeverityInfo, KindFieldEquivalent
	default:
		return Finding{}, false
	}
	return f, true
}

// cardFindings reports the cards of one directory column: risks and one-sided cards from the
// card matrix, then the fields of cards both sides hold.
func cardFindings(cmp Comparison, ci int, add func(Finding)) {
	col := cmp.Columns[ci]
	risky := map[string]bool{}
	for _, card := range cmp.Cards {
		cell := card.Directories[ci]
		f := Finding{Directory: col.Directory, CardKey: card.Key, Last4: card.Last4, IssuerStatus: card.IssuerStatus}
		switch {
		case cell.Difference == KindCardUnknownToIssuer:
			f.Severity, f.Kind = SeverityRisk, KindCardUnknownToIssuer
			risky[card.Key] = true
		case cell.Present && riskyIssuerStatus(card.IssuerStatus) && usableInDirectory(card.IssuerStatus, cell.Status):
			f.Severity, f.Kind = SeverityRisk, KindCardBlockedButEnrolled
			f.Field, f.FieldKind = CardField(card.Key, "status"), "status"
			risky[card.Key] = true
		case cell.Difference == KindCardNotEnrolled:
			f.Severity, f.Kind = SeverityWarn, KindCardNotEnrolled
		default:
			continue
		}
		add(f)
	}
	cards := map[string]CardRow{}
	for _, card := range cmp.Cards {
		cards[card.Key] = card
	}
	for _, r := range cmp.Rows {
		card, ok := cards[r.CardKey]
		if r.CardKey == "" || !ok || (risky[r.CardKey] && r.Kind == "status") {
			continue
		}
		if f, ok := fieldFinding(r.Cells[ci]); ok {
			f.Directory, f.Field, f.FieldKind, f.CardKey, f.Last4 = col.Directory, r.Field, r.Kind, r.CardKey, card.Last4
			add(f)
		}
	}
}

// summarize counts the comparison's verdicts, one-sided cards and findings, in the columns
// that hold a profile.
func summarize(cmp *Comparison) Summary {
	s := Summary{Directories: len(cmp.Columns)}
	for ci := range cmp.Columns {
		col := &cmp.Columns[ci]
		if col.State != StateUnavailable && !col.Stale {
			s.Reached++
		}
		if col.State == StateUnavailable {
			s.Unavailable++
		}
		if !hasProfile(*col) {
			continue
		}
		s.Enrolled++
		for _, r := range cmp.Rows {
			switch v := r.Cells[ci].Verdict; {
			case v.IsDifference():
				col.Differences++
			case v == Equivalent:
				col.Equivalents++
			}
		}
		for _, card := range cmp.Cards {
			if card.Directories[ci].Difference != "" {
				col.Differences++
			}
		}
		s.Differences += col.Differences
		s.Equivalents += col.Equivalents
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
