package audit

import (
	"errors"
	"fmt"
	"regexp"
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
	DetailReason    = "reason"
	DetailReference = "reference"
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

// checkRevealDetails refuses a reveal event whose reason is not one of the codes: a successful
// reveal must name its reason, a reference must be the reason's, and no free-text reason is
// recorded at all. This holds whatever the caller checked before.
func checkRevealDetails(e Event) error {
	if _, ok := e.Details["reason_text"]; ok {
		return fmt.Errorf("%w: a free-text reveal reason is never recorded", ErrInvalidEvent)
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
