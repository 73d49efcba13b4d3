package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/issuerdb"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// revealReasonLabels names the reason codes (audit.RevealReasons) in the reveal form.
var revealReasonLabels = map[audit.RevealReason]string{
	audit.ReasonCustomerVerified: "Customer called and their identity is verified",
	audit.ReasonFraudCase:        "Fraud case (case id)",
	audit.ReasonComplaint:        "Customer complaint (ticket id)",
	audit.ReasonOther:            "Other (ticket id)",
}

// Messages for a reveal reason the form refuses, by the check that refused it.
const (
	revealNoReason      = "Choose why you need to see this value."
	revealNoFraudCase   = "Enter the fraud case id: FRD- and 4 to 9 digits, e.g. FRD-20417."
	revealBadFraudCase  = "The fraud case id must be FRD- and 4 to 9 digits, e.g. FRD-20417."
	revealNoTicket      = "Enter the ticket id: 2 to 6 capital letters, a dash and 1 to 9 digits, e.g. CS-4711."
	revealBadTicket     = "The ticket id must be 2 to 6 capital letters, a dash and 1 to 9 digits, e.g. CS-4711."
	revealNoReference   = "A verified call needs no case or ticket id: leave the reference empty."
	revealLongReference = "The case or ticket id is too long: it has at most 16 characters."
)

// Contact fields that can be revealed, with how the page names them.
var revealFields = map[string]string{"email": "email address", "phone": "phone number"}

// revealIssuer is the source value of the issuer's own record.
const revealIssuer = "issuer"

// directoryPattern is what a directory source looks like: D1's scheme names, e.g. "VISA".
var directoryPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// placePattern is what the place of a Reveal control may look like.
var placePattern = regexp.MustCompile(`^[a-z0-9-]{1,20}$`)

// maxEcho bounds a refused reference shown back in the form.
const maxEcho = 40

// maxRevealPeers bounds the other places on a page one reveal fills in.
const maxRevealPeers = 16

// errRevealSourceUnknown is returned when the directory asked for has no profile to reveal.
var errRevealSourceUnknown = userError(http.StatusNotFound, "Not found", "This directory holds no profile for the customer.")

// revealInput is the parsed reveal form.
type revealInput struct {
	CustomerID string
	Field      string
	Source     string
	Reason     string
	Reference  string
	Masked     string
	Place      string
}

// revealProblem is why a reveal form was refused: the message for the user, the form field
// it is about ("reason" or "reference"; empty for the hidden fields), and the input the audit
// trail names (audit.DetailInvalid: "field", "source", "reason" or "reference").
type revealProblem struct {
	Message string
	Field   string
	Input   string
}

// parseRevealInput reads and checks the form. A refused form comes back with a problem for the
// user; nothing has been looked up or recorded yet. The reason must be one of the reason codes
// and the reference exactly what that reason needs, so no free text reaches the audit trail.
func parseRevealInput(c echo.Context) (revealInput, revealProblem) {
	in := revealInput{
		CustomerID: c.Param("id"),
		Field:      c.FormValue("field"),
		Source:     c.FormValue("source"),
		Reason:     c.FormValue("reason"),
		Reference:  strings.TrimSpace(c.FormValue("reference")),
		Masked:     c.FormValue("masked"),
		Place:      c.FormValue("place"),
	}
	if len(in.Masked) > 120 || !utf8.ValidString(in.Masked) || strings.ContainsFunc(in.Masked, isControl) {
		in.Masked = ""
	}
	if _, ok := revealFields[in.Field]; !ok {
		return in, revealProblem{Message: "This field cannot be revealed.", Input: "field"}
	}
	if in.Source != revealIssuer && !directoryPattern.MatchString(in.Source) {
		return in, revealProblem{Message: "The source of the value is not known.", Input: "source"}
	}
	p := checkRevealReason(in.Reason, in.Reference)
	p.Input = p.Field
	return in, p
}

// checkRevealReason turns the audit trail's verdict on a reason and reference into what the
// form says.
func checkRevealReason(reason, reference string) revealProblem {
	ticket := audit.RevealReason(reason).Reference() == audit.ReferenceTicket
	err := audit.CheckRevealReason(reason, reference)
	switch {
	case err == nil:
		return revealProblem{}
	case errors.Is(err, audit.ErrUnknownReason):
		return revealProblem{Message: revealNoReason, Field: "reason"}
	case errors.Is(err, audit.ErrReferenceNotTaken):
		return revealProblem{Message: revealNoReference, Field: "reference"}
	case errors.Is(err, audit.ErrReferenceMissing) && ticket:
		return revealProblem{Message: revealNoTicket, Field: "reference"}
	case errors.Is(err, audit.ErrReferenceMissing):
		return revealProblem{Message: revealNoFraudCase, Field: "reference"}
	case utf8.RuneCountInString(reference) > audit.MaxRevealReference:
		return revealProblem{Message: revealLongReference, Field: "reference"}
	case ticket:
		return revealProblem{Message: revealBadTicket, Field: "reference"}
	}
	return revealProblem{Message: revealBadFraudCase, Field: "reference"}
}

// revealReasonOptions is the reason select, with selected chosen.
func revealReasonOptions(selected string) []views.Option {
	out := make([]views.Option, 0, len(revealReasonLabels))
	for _, r := range audit.RevealReasons() {
		out = append(out, views.Option{Value: string(r), Label: revealReasonLabels[r], Selected: string(r) == selected})
	}
	return out
}

// RevealForm returns the Reveal control of one masked value on a customer's page, for the
// customer and comparison views to embed. place names where on the page the control sits
// ("record", "comparison"; lower-case letters, digits and dashes), so two controls for the same
// value get different element ids; source is "issuer" or a directory name; field is "email" or
// "phone".
func RevealForm(c echo.Context, place, customerID, source, field, masked string) views.RevealForm {
	if !placePattern.MatchString(place) {
		place = "page"
	}
	return views.RevealForm{
		ID:           revealID(place, source, field),
		Place:        place,
		Peer:         place + ":" + source,
		PostURL:      "/customers/" + customerID + "/reveal",
		CSRFToken:    auth.CSRFTokenFrom(c.Request().Context()),
		Field:        field,
		FieldLabel:   revealFields[field],
		Source:       source,
		SourceLabel:  sourceLabel(source),
		Masked:       masked,
		Reasons:      revealReasonOptions(""),
		MaxReference: audit.MaxRevealReference,
	}
}

// revealID is the element id of the Reveal control of one field from one source at one place.
func revealID(place, source, field string) string {
	return "reveal-" + place + "-" + strings.ToLower(source) + "-" + field
}

// revealPeer is a place on the page that shows the field being revealed, and its source.
type revealPeer struct{ place, source string }

// revealPeers reads the other Reveal controls of the same field that the page sent along
// ("peer" values "place:source"), so that one reveal with one reason shows the field
// everywhere on the page. The control that was used comes first; malformed, repeated and
// excess values are dropped.
func revealPeers(c echo.Context, in revealInput) []revealPeer {
	own := revealPeer{in.Place, in.Source}
	if !placePattern.MatchString(own.place) {
		own.place = "page"
	}
	peers := []revealPeer{own}
	form, err := c.FormParams()
	if err != nil {
		return peers
	}
	for _, raw := range form["peer"] {
		place, source, ok := strings.Cut(raw, ":")
		p := revealPeer{place, source}
		if !ok || !placePattern.MatchString(place) || (source != revealIssuer && !directoryPattern.MatchString(source)) || slices.Contains(peers, p) {
			continue
		}
		if len(peers) > maxRevealPeers {
			break
		}
		peers = append(peers, p)
	}
	return peers
}

func sourceLabel(source string) string {
	if source == revealIssuer {
		return "issuer record"
	}
	return source + " directory"
}

// Reveal is POST /customers/:id/reveal: an agent asks to see one masked contact value and
// says why, with a reason code and the case or ticket id the reason needs. The value is looked
// up in every source the page shows the field from, the event (field, source, every source
// revealed, reason, reference) is committed to the audit trail, and only then are the values
// sent, as a fragment for this page only. The trail commits the event only
// while the agent is under the reveal limits; over them it records the refusal instead and
// nothing is sent. Every refusal (a bad form, an unknown customer, a directory without a
// profile, a failed lookup, a limit) is recorded as a failed reveal with its code.
func (h *Handler) Reveal(c echo.Context) error {
	noStore(c)
	varyOnFragment(c)
	in, problem := parseRevealInput(c)
	if problem.Message != "" {
		if err := h.recordRevealFailure(c, in, "", audit.RevealBadInput, problem.Input); err != nil {
			return err
		}
		return h.revealRefused(c, in, problem)
	}
	ctx := c.Request().Context()
	cust, err := h.customers.Get(ctx, in.CustomerID)
	if err != nil {
		return h.revealFailed(c, in, "", err)
	}
	peers := revealPeers(c, in)
	values, err := h.revealValues(ctx, cust, in.Field, peers, requestID(c))
	if err != nil {
		return h.revealFailed(c, in, cust.ID, err)
	}
	var sources []string
	for _, p := range peers {
		if _, ok := values[p.source]; ok && !slices.Contains(sources, p.source) {
			sources = append(sources, p.source)
		}
	}
	details := map[string]string{
		audit.DetailField: in.Field, audit.DetailSource: in.Source, audit.DetailReason: in.Reason,
		audit.DetailSources: strings.Join(sources, ","),
	}
	if in.Reference != "" {
		details[audit.DetailReference] = in.Reference
	}
	e := auditEvent(c, audit.ActionReveal, audit.Success, cust.ID, details)
	e.Limits = h.revealLimits.audit()
	var limited *audit.LimitError
	if err := h.auditor.Record(ctx, e); errors.As(err, &limited) {
		return h.revealLimited(c, in, limited)
	} else if err != nil {
		return fmt.Errorf("handlers: audit %s: %w", audit.ActionReveal, err)
	}
	revealed := func(p revealPeer) views.RevealedValue {
		return views.RevealedValue{
			ID: revealID(p.place, p.source, in.Field), CustomerID: cust.ID, Field: in.Field, Source: p.source,
			Values: values[p.source], FieldLabel: revealFields[in.Field], SourceLabel: sourceLabel(p.source),
			BackURL: "/customers/" + cust.ID,
		}
	}
	v := revealed(peers[0])
	switch {
	case wantsJSON(c):
		return c.JSON(http.StatusOK, v)
	case isHTMX(c):
		// The control used is replaced in place; every other control of the field on the page
		// is replaced out of band, so the one reason covers the field wherever it is shown.
		var elsewhere []views.RevealedValue
		for _, p := range peers[1:] {
			if _, ok := values[p.source]; ok {
				elsewhere = append(elsewhere, revealed(p))
			}
		}
		return render(c, http.StatusOK, views.RevealedEverywhere(v, elsewhere))
	}
	return render(c, http.StatusOK, views.RevealPage(h.base(c, "Revealed value"), v))
}

// revealFailed records a reveal whose value could not be looked up, then returns the lookup's
// error for the error handler to show; if the failure cannot be recorded, the trail's error.
func (h *Handler) revealFailed(c echo.Context, in revealInput, customerID string, err error) error {
	if rerr := h.recordRevealFailure(c, in, customerID, revealFailure(err), ""); rerr != nil {
		return rerr
	}
	return err
}

// revealRefused answers a form that cannot be acted on: the control again with the message
// next to the field it is about (htmx), or a 422 error.
func (h *Handler) revealRefused(c echo.Context, in revealInput, problem revealProblem) error {
	if !isHTMX(c) || revealFields[in.Field] == "" {
		return userError(http.StatusUnprocessableEntity, "Cannot reveal", problem.Message)
	}
	return h.revealControlAgain(c, http.StatusUnprocessableEntity, in, problem)
}

// revealControlAgain renders the Reveal control of a refused attempt, unfolded, with the
// message, the chosen reason and the reference kept.
func (h *Handler) revealControlAgain(c echo.Context, status int, in revealInput, problem revealProblem) error {
	f := RevealForm(c, in.Place, in.CustomerID, in.Source, in.Field, in.Masked)
	if in.Source != revealIssuer && !directoryPattern.MatchString(in.Source) {
		f = RevealForm(c, in.Place, in.CustomerID, revealIssuer, in.Field, in.Masked)
	}
	f.Error, f.ErrorField, f.Open = problem.Message, problem.Field, true
	f.Reasons = revealReasonOptions(in.Reason)
	// The reference is shown back only while it is short, one line of valid text.
	if len(in.Reference) <= maxEcho && utf8.ValidString(in.Reference) && !strings.ContainsFunc(in.Reference, isControl) {
		f.Reference = in.Reference
	}
	return render(c, status, views.RevealControl(f))
}

// revealValues looks the whole value up in every source the page showed it masked: the issuer
// record, or a directory's profile (from the comparison's short cache), keyed by source. The
// first peer is the control that was used: if its source has nothing to reveal, that is the
// error; another peer's source that fails is left out.
func (h *Handler) revealValues(ctx context.Context, cust issuerdb.Customer, field string, peers []revealPeer, reqID string) (map[string][]string, error) {
	out := map[string][]string{}
	var res d1.Result
	var resErr error
	asked := false
	for i, p := range peers {
		if _, done := out[p.source]; done {
			continue
		}
		if p.source == revealIssuer {
			v := cust.Email
			if field == "phone" {
				v = cust.Phone
			}
			out[p.source] = nil
			if v != "" {
				out[p.source] = []string{v}
			}
			continue
		}
		if !asked {
			res, resErr = h.profiles.GetProfiles(ctx, cust.ConsumerID, d1.FetchOptions{RequestID: reqID})
			asked = true
		}
		vals, err := directoryValues(res, resErr, p.source, field)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			continue
		}
		out[p.source] = vals
	}
	return out, nil
}

// directoryValues is one directory's email addresses or phone numbers from D1's answer.
func directoryValues(res d1.Result, err error, source, field string) ([]string, error) {
	switch {
	case errors.Is(err, d1.ErrNotFound):
		return nil, errRevealSourceUnknown
	case err != nil:
		return nil, err
	}
	for _, p := range res.Profiles {
		if p.Directory != source {
			continue
		}
		if field == "email" {
			return append([]string(nil), p.Consumer.Emails...), nil
		}
		var out []string
		for _, ph := range p.Consumer.Phones {
			out = append(out, formatD1Phone(ph))
		}
		return out, nil
	}
	return nil, errRevealSourceUnknown
}

// formatD1Phone writes a directory's phone as "+CC number", as D1 holds it apart.
func formatD1Phone(p d1.Phone) string {
	cc := strings.TrimPrefix(p.CountryCode, "+")
	if cc == "" {
		return p.Number
	}
	return "+" + cc + " " + p.Number
}
