package scan

// This file is the one place the scan reads reconcile's and d1's result types: it turns a
// comparison (or a D1 failure) into the Outcome the scan stores. When the comparison's shape
// changes, only this file follows.

import (
	"errors"
	"slices"
	"strings"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/reconcile"
)

// Outcome states: what the scan could say about one customer.
const (
	// OutcomeCompared: D1 answered and the comparison was made.
	OutcomeCompared = "compared"
	// OutcomeNotRegistered: D1 does not know the consumer (HTTP 404).
	OutcomeNotRegistered = "not-registered"
	// OutcomeUnavailable: D1 gave nothing usable; ErrorClass says why.
	OutcomeUnavailable = "unavailable"
)

// KindConsumerWithoutCard is the worklist's finding for a directory that holds the consumer
// but no card (a failed card enrolment): reconcile says so in the column's state, and a person
// should look at it as at any data-quality difference.
const KindConsumerWithoutCard = "consumer-without-card"

// Severity ranks of a worklist item, most urgent first.
const (
	severityRisk = 0
	severityWarn = 1
)

// Outcome is what the scan stores of one customer: never a value, only states, counts, kinds
// and keyed fingerprints.
type Outcome struct {
	State      string
	ErrorClass string
	// Directories is each directory's column state, in the comparison's order.
	Directories []DirectoryState
	Counts      Counts
	// Findings are the findings a person decides on (risks and data-quality warnings), in
	// the comparison's order; information-only findings and D1 failures are not among them.
	Findings []Finding
	// Fingerprints maps "field@DIRECTORY" (and "field@issuer") to a keyed hash of the
	// normalised value.
	Fingerprints map[string]string
}

// DirectoryState is one directory's column state.
type DirectoryState struct {
	Directory string
	State     string
}

// Counts are a comparison's counts as the comparison page shows them.
type Counts struct {
	Differences int
	Equivalents int
	Risks       int
	Warnings    int
}

// Finding is one finding the worklist shows: its kind, whether it is a risk (fraud) or a data
// quality difference (agents and fraud), and the directory it was found in.
type Finding struct {
	Kind      string
	Risk      bool
	Directory string
}

// dataQualityKinds are the findings agents see on the worklist: the record and a directory
// disagree on a field, an active card is missing from its directory, or a directory holds the
// consumer without a card. Everything graded a risk is for fraud analysts only.
var dataQualityKinds = []string{
	reconcile.KindFieldDiffers, reconcile.KindFieldMissing, reconcile.KindFieldMissingAtIssuer,
	reconcile.KindCardNotEnrolled, KindConsumerWithoutCard,
}

// RiskKinds and DataQualityKinds list the finding kinds the worklist filters on.
func RiskKinds() []string {
	return []string{reconcile.KindCardBlockedButEnrolled, reconcile.KindCardUnknownToIssuer, reconcile.KindContactTakeover}
}

// DataQualityKinds lists the finding kinds agents see.
func DataQualityKinds() []string { return slices.Clone(dataQualityKinds) }

// compare asks reconcile for the comparison of one customer with D1's answer or failure and
// turns it into an Outcome.
func compare(rec issuerdb.Customer, res d1.Result, fetchErr error, opts reconcile.Options, fp *fingerprinter) Outcome {
	switch {
	case fetchErr == nil && res.Stale:
		// A cached answer after D1 failed is not what the scan asked for: the customer stays
		// unchecked rather than compared with old data.
		return Outcome{State: OutcomeUnavailable, ErrorClass: d1.ClassOf(res.StaleReason)}
	case errors.Is(fetchErr, d1.ErrNotFound):
		o := Outcome{State: OutcomeNotRegistered}
		for _, col := range reconcile.CompareNotRegistered(rec, "", opts.Now, opts).Columns {
			o.Directories = append(o.Directories, DirectoryState{Directory: col.Directory, State: string(col.State)})
		}
		return o
	case fetchErr != nil:
		return Outcome{State: OutcomeUnavailable, ErrorClass: d1.ClassOf(fetchErr)}
	}
	return outcomeOf(reconcile.Compare(rec, res, opts), rec, fp)
}

// outcomeOf reduces a comparison to what the scan stores.
func outcomeOf(c reconcile.Comparison, rec issuerdb.Customer, fp *fingerprinter) Outcome {
	o := Outcome{
		State: OutcomeCompared,
		Counts: Counts{
			Differences: c.Summary.Differences, Equivalents: c.Summary.Equivalents,
			Risks: c.Summary.Risks, Warnings: c.Summary.Warnings,
		},
		Fingerprints: map[string]string{},
	}
	compared := make([]bool, len(c.Columns))
	for i, col := range c.Columns {
		o.Directories = append(o.Directories, DirectoryState{Directory: col.Directory, State: string(col.State)})
		compared[i] = col.State.HasProfile()
	}
	for _, f := range c.Findings {
		risk := f.Severity == reconcile.SeverityRisk
		if risk || slices.Contains(dataQualityKinds, f.Kind) {
			o.Findings = append(o.Findings, Finding{Kind: f.Kind, Risk: risk, Directory: f.Directory})
		}
	}
	for _, col := range c.Columns {
		if col.State == reconcile.StateNoCard {
			o.Findings = append(o.Findings, Finding{Kind: KindConsumerWithoutCard, Directory: col.Directory})
		}
	}
	region := reconcile.NormalizeCountry(rec.Country)
	for _, r := range c.Rows {
		o.Fingerprints[r.Field+"@issuer"] = fp.sum(r.Field+"@issuer", normalise(r.Kind, r.Issuer, region))
		for i, cell := range r.Cells {
			// A cell with a state (not provided, not applicable) holds no comparison.
			if !compared[i] || cell.State != "" || cell.Verdict == reconcile.Unavailable {
				continue
			}
			key := r.Field + "@" + cell.Directory
			o.Fingerprints[key] = fp.sum(key, normalise(r.Kind, cell.Values, region))
		}
	}
	return o
}

// normalise writes a field's values in the form the comparison treats as equal, sorted, so the
// fingerprint changes when the value does and not when only its spelling does.
func normalise(kind string, values []string, region string) string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		switch kind {
		case reconcile.FieldFirstName, reconcile.FieldMiddleName, reconcile.FieldLastName, "cardholderName",
			"billing.line1", "billing.line2", "billing.line3", "billing.city", "billing.region":
			v = reconcile.NormalizeName(v)
		case reconcile.FieldEmail:
			v = reconcile.NormalizeEmail(v)
		case reconcile.FieldPhone:
			v = reconcile.NormalizePhone(v, region)
		case reconcile.FieldLanguage:
			v = reconcile.NormalizeLanguage(v)
		case "billing.postalCode":
			v = reconcile.NormalizePostalCode(v)
		case "billing.country":
			v = reconcile.NormalizeCountry(v)
		default:
			v = strings.ToUpper(strings.TrimSpace(v))
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), "\x1f")
}

// backOffClass reports whether a D1 failure means the whole scan must wait (D1 asked us to
// slow down, or the breaker stopped calling it) rather than count one customer unavailable.
func backOffClass(err error) bool {
	switch d1.ClassOf(err) {
	case d1.ClassRateLimited, d1.ClassCircuitOpen:
		return true
	}
	return false
}
