package audit

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// RevealReason is why an agent revealed a masked contact value. Only these codes, and for the
// reasons that need one a case or ticket id of a fixed shape, enter the chain: a free-text
// reason could hold a name or an address, and the chain keeps what it holds for the whole
// retention period.
type RevealReason string

// Reveal reasons. The values are stable: they are what the trail records.
const (
	// ReasonCustomerVerified: the customer called and their identity was verified. No reference.
	ReasonCustomerVerified RevealReason = "customer_verified"
	// ReasonFraudCase: work on a fraud case, named by its case id (FRD-20417).
	ReasonFraudCase RevealReason = "fraud_case"
	// ReasonComplaint: a customer complaint, named by its ticket id (CS-4711).
	ReasonComplaint RevealReason = "complaint"
	// ReasonOther: anything else, which must be written up in a ticket first (OPS-88).
	ReasonOther RevealReason = "other"
)

// Details keys of a reveal event.
const (
	// DetailField is the field revealed: "email" or "phone".
	DetailField = "field"
	// DetailSource is the source of the Reveal control used: "issuer" or a directory.
	DetailSource = "source"
	// DetailSources lists, comma-separated, every source one reveal showed the field from:
	// the control used (DetailSource) first, then each other place on the page that showed
	// the field masked. A reveal the limits refused keeps the list of what it would have shown.
	DetailSources   = "sources"
	DetailReason    = "reason"
	DetailReference = "reference"
)

// revealDetails are the only details a reveal event may carry: which field, from which
// sources, why, and for a failure its code and what goes with it. Anything else could be a
// value or free text, which the chain would keep for the whole retention period.
var revealDetails = map[string]bool{
	DetailField: true, DetailSource: true, DetailSources: true, DetailReason: true, DetailReference: true,
	DetailFailure: true, DetailInvalid: true, DetailLimit: true,
}

// Bounds of DetailSources: a source is an identifier ("issuer", a scheme name such as
// "MASTERCARD"), and one page shows a field from a handful of them.
const (
	maxRevealSources = 32
	maxSourceName    = 32
)

// MaxRevealReference is the length of the longest reference any reason accepts.
const MaxRevealReference = 16

// Reference patterns. Digit runs stop at 9, short of the 10 digits at which the trail takes a
// value for a phone or card number and redacts it.
var (
	fraudCaseID = regexp.MustCompile(`^FRD-[0-9]{4,9}$`)
	ticketID    = regexp.MustCompile(`^[A-Z]{2,6}-[0-9]{1,9}$`)
)

var revealReferences = map[RevealReason]*regexp.Regexp{
	ReasonCustomerVerified: nil,
	ReasonFraudCase:        fraudCaseID,
	ReasonComplaint:        ticketID,
	ReasonOther:            ticketID,
}

// RevealReasons lists the reasons in the order the reveal form offers them.
func RevealReasons() []RevealReason {
	return []RevealReason{ReasonCustomerVerified, ReasonFraudCase, ReasonComplaint, ReasonOther}
}

// Reference kinds, as RevealReason.Reference reports them.
const (
	ReferenceNone      = ""
	ReferenceFraudCase = "fraud-case"
	ReferenceTicket    = "ticket"
)

// Reference says which reference the reason needs: ReferenceNone, ReferenceFraudCase or
// ReferenceTicket.
func (r RevealReason) Reference() string {
	switch revealReferences[r] {
	case fraudCaseID:
		return ReferenceFraudCase
	case ticketID:
		return ReferenceTicket
	}
	return ReferenceNone
}

// Errors of CheckRevealReason, so a caller can say what is wrong.
var (
	ErrUnknownReason     = errors.New("audit: unknown reveal reason")
	ErrReferenceMissing  = errors.New("audit: the reveal reason needs a case or ticket id")
	ErrReferenceNotTaken = errors.New("audit: the reveal reason takes no case or ticket id")
	ErrReferenceFormat   = errors.New("audit: the case or ticket id does not have the reason's format")
)

// CheckRevealReason reports whether reason is a known code and reference (empty for none) is
// what that reason needs.
func CheckRevealReason(reason, reference string) error {
	pattern, known := revealReferences[RevealReason(reason)]
	switch {
	case !known:
		return ErrUnknownReason
	case pattern == nil && reference != "":
		return ErrReferenceNotTaken
	case pattern == nil:
		return nil
	case reference == "":
		return ErrReferenceMissing
	case !pattern.MatchString(reference):
		return ErrReferenceFormat
	}
	return nil
}

// RevealFailure is why a reveal was refused, as the trail records it under DetailFailure: a
// code, never the input that was refused.
type RevealFailure string

// Reveal failures. The values are stable: they are what the trail records.
const (
	// RevealBadInput: the form named no revealable field or source, or no valid reason;
	// DetailInvalid says which input.
	RevealBadInput RevealFailure = "bad_input"
	// RevealUnknownCustomer: no customer has the id.
	RevealUnknownCustomer RevealFailure = "unknown_customer"
	// RevealNoProfile: the directory holds no profile of the customer.
	RevealNoProfile RevealFailure = "no_profile"
	// RevealLookupFailed: the issuer database or D1 did not answer.
	RevealLookupFailed RevealFailure = "lookup_failed"
	// RevealRateLimited: the agent reached a reveal limit; the trail writes it (Event.Limits)
	// with the limit under DetailLimit.
	RevealRateLimited RevealFailure = FailureRateLimited
)

var revealFailures = map[RevealFailure]bool{
	RevealBadInput: true, RevealUnknownCustomer: true, RevealNoProfile: true,
	RevealLookupFailed: true, RevealRateLimited: true,
}

// DetailInvalid is the input of a reveal form that was refused (RevealBadInput), by name.
const DetailInvalid = "invalid"

// Inputs a refused reveal may name under DetailInvalid.
var revealInputs = map[string]bool{DetailField: true, DetailSource: true, DetailReason: true, DetailReference: true}

// checkRevealDetails refuses a reveal event whose reason is not one of the codes: a successful
// reveal must name its reason, a reference must be the reason's, and no free-text reason is
// recorded at all. A failed reveal names its failure code, and only the codes that go with it;
// a success names none. This holds whatever the caller checked before.
func checkRevealDetails(e Event) error {
	if _, ok := e.Details["reason_text"]; ok {
		return fmt.Errorf("%w: a free-text reveal reason is never recorded", ErrInvalidEvent)
	}
	for k := range e.Details {
		if !revealDetails[k] {
			return fmt.Errorf("%w: a reveal records no detail %q", ErrInvalidEvent, clean(k, maxDetailKey))
		}
	}
	if err := checkRevealFailure(e); err != nil {
		return err
	}
	if err := checkRevealSources(e); err != nil {
		return err
	}
	reason, hasReason := e.Details[DetailReason]
	reference, hasReference := e.Details[DetailReference]
	switch {
	case !hasReason && e.Outcome == Success:
		return fmt.Errorf("%w: a reveal without a reason", ErrInvalidEvent)
	case !hasReason && hasReference:
		return fmt.Errorf("%w: a reveal reference without a reason", ErrInvalidEvent)
	case !hasReason:
		return nil
	case hasReference && reference == "":
		return fmt.Errorf("%w: an empty reveal reference", ErrInvalidEvent)
	}
	if err := CheckRevealReason(reason, reference); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	return nil
}

// checkRevealFailure checks the failure code of a reveal event and the details that belong to
// it: which input was refused (bad input only) and which limit was reached (rate limited only).
func checkRevealFailure(e Event) error {
	failure, hasFailure := e.Details[DetailFailure]
	invalid, hasInvalid := e.Details[DetailInvalid]
	_, hasLimit := e.Details[DetailLimit]
	switch {
	case e.Outcome == Success && hasFailure:
		return fmt.Errorf("%w: a successful reveal with a failure code", ErrInvalidEvent)
	case e.Outcome == Failure && !hasFailure:
		return fmt.Errorf("%w: a failed reveal without a failure code", ErrInvalidEvent)
	case hasFailure && !revealFailures[RevealFailure(failure)]:
		return fmt.Errorf("%w: unknown reveal failure %q", ErrInvalidEvent, clean(failure, 40))
	case hasInvalid && (failure != string(RevealBadInput) || !revealInputs[invalid]):
		return fmt.Errorf("%w: a refused reveal input that is not a form field of a bad input", ErrInvalidEvent)
	case hasLimit && failure != string(RevealRateLimited):
		return fmt.Errorf("%w: a reveal limit without a rate-limited failure", ErrInvalidEvent)
	}
	return nil
}

// checkRevealSources checks the sources a reveal names: only on a reveal that showed them, or
// that its limit refused; a list of distinct source identifiers that names the control's own
// source; and short enough to be stored whole.
func checkRevealSources(e Event) error {
	list, has := e.Details[DetailSources]
	if !has {
		return nil
	}
	if e.Outcome == Failure && e.Details[DetailFailure] != string(RevealRateLimited) {
		return fmt.Errorf("%w: sources on a reveal that looked nothing up", ErrInvalidEvent)
	}
	if len(list) > maxDetailVal {
		return fmt.Errorf("%w: a reveal's sources longer than %d bytes", ErrInvalidEvent, maxDetailVal)
	}
	sources := strings.Split(list, ",")
	if len(sources) > maxRevealSources {
		return fmt.Errorf("%w: %d reveal sources, at most %d", ErrInvalidEvent, len(sources), maxRevealSources)
	}
	for i, src := range sources {
		if !sourceName.MatchString(src) || slices.Contains(sources[:i], src) {
			return fmt.Errorf("%w: reveal sources that are not distinct source names", ErrInvalidEvent)
		}
	}
	if !slices.Contains(sources, e.Details[DetailSource]) {
		return fmt.Errorf("%w: reveal sources that leave out the control's own source", ErrInvalidEvent)
	}
	return nil
}

// sourceName is what a reveal source looks like: a letter, then letters, digits and
// underscores.
var sourceName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,` + strconv.Itoa(maxSourceName-1) + `}$`)
