package handlers

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"ctpdesk/audit"
	"ctpdesk/auth"
	"ctpdesk/d1"
	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// Reveal reasons. The values are stable: they are what the audit trail records.
var revealReasons = []views.Option{
	{Value: "customer_verified", Label: "Customer on the phone and verified"},
	{Value: "dispute", Label: "Dispute"},
	{Value: "fraud_check", Label: "Fraud check"},
	{Value: "other", Label: "Other (explain below)"},
}

// Contact fields that can be revealed, with how the page names them.
var revealFields = map[string]string{"email": "email address", "phone": "phone number"}

// revealIssuer is the source value of the issuer's own record.
const revealIssuer = "issuer"

// directoryPattern is what a directory source looks like: D1's scheme names, e.g. "VISA".
var directoryPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// placePattern is what the place of a Reveal control may look like.
var placePattern = regexp.MustCompile(`^[a-z0-9-]{1,20}$`)

// maxReasonText bounds the free-text reason.
const maxReasonText = 200

// errRevealSourceUnknown is returned when the directory asked for has no profile to reveal.
var errRevealSourceUnknown = userError(http.StatusNotFound, "Not found", "This directory holds no profile for the customer.")

// revealInput is the parsed reveal form.
type revealInput struct {
	CustomerID string
	Field      string
	Source     string
	Reason     string
	ReasonText string
	Masked     string
	Place      string
}

// parseRevealInput reads and checks the form. A refused form comes back with a message for the
// user; nothing has been looked up or recorded yet.
func parseRevealInput(c echo.Context) (revealInput, string) {
	in := revealInput{
		CustomerID: c.Param("id"),
		Field:      c.FormValue("field"),
		Source:     c.FormValue("source"),
		Reason:     c.FormValue("reason"),
		ReasonText: strings.TrimSpace(c.FormValue("reason_text")),
		Masked:     c.FormValue("masked"),
		Place:      c.FormValue("place"),
	}
	if len(in.Masked) > 120 || !utf8.ValidString(in.Masked) || strings.ContainsFunc(in.Masked, isControl) {
		in.Masked = ""
	}
	if _, ok := revealFields[in.Field]; !ok {
		return in, "This field cannot be revealed."
	}
	if in.Source != revealIssuer && !directoryPattern.MatchString(in.Source) {
		return in, "The source of the value is not known."
	}
	known := false
	for _, r := range revealReasons {
		known = known || r.Value == in.Reason
	}
	switch {
	case !known:
		return in, "Choose why you need to see this value."
	case len(in.ReasonText) > maxReasonText || !utf8.ValidString(in.ReasonText) || strings.ContainsFunc(in.ReasonText, isControl):
		in.ReasonText = ""
		return in, "Keep the explanation to one line of at most 200 characters."
	case in.Reason == "other" && in.ReasonText == "":
		return in, "Explain why you need to see this value."
	}
	return in, ""
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
		ID:          "reveal-" + place + "-" + strings.ToLower(source) + "-" + field,
		Place:       place,
		PostURL:     "/customers/" + customerID + "/reveal",
		CSRFToken:   auth.CSRFTokenFrom(c.Request().Context()),
		Field:       field,
		FieldLabel:  revealFields[field],
		Source:      source,
		SourceLabel: sourceLabel(source),
		Masked:      masked,
		Reasons:     revealReasons,
	}
}

func sourceLabel(source string) string {
	if source == revealIssuer {
		return "issuer record"
	}
	return source + " directory"
}

// Reveal is POST /customers/:id/reveal: an agent asks to see one masked contact value and
// says why. The value is looked up, the event (field, source, reason) is committed to the
// audit trail, and only then is the value sent, as a fragment for this page only.
func (h *Handler) Reveal(c echo.Context) error {
	noStore(c)
	varyOnFragment(c)
	in, problem := parseRevealInput(c)
	if problem != "" {
		return h.revealRefused(c, in, problem)
	}
	ctx := c.Request().Context()
	values, err := h.revealValues(ctx, in, requestID(c))
	if err != nil {
		return err
	}
	details := map[string]string{"field": in.Field, "source": in.Source, "reason": in.Reason}
	if in.ReasonText != "" {
		details["reason_text"] = in.ReasonText
	}
	if err := h.record(c, audit.ActionReveal, audit.Success, in.CustomerID, details); err != nil {
		return err
	}
	v := views.RevealedValue{
		CustomerID: in.CustomerID, Field: in.Field, Source: in.Source, Values: values,
		FieldLabel: revealFields[in.Field], SourceLabel: sourceLabel(in.Source), BackURL: "/customers/" + in.CustomerID,
	}
	switch {
	case wantsJSON(c):
		return c.JSON(http.StatusOK, v)
	case isHTMX(c):
		return render(c, http.StatusOK, views.Revealed(v))
	}
	return render(c, http.StatusOK, views.RevealPage(h.base(c, "Revealed value"), v))
}

// revealRefused answers a form that cannot be acted on: the control again with the message
// (htmx), or a 422 error.
func (h *Handler) revealRefused(c echo.Context, in revealInput, problem string) error {
	if !isHTMX(c) || revealFields[in.Field] == "" {
		return userError(http.StatusUnprocessableEntity, "Cannot reveal", problem)
	}
	f := RevealForm(c, in.Place, in.CustomerID, in.Source, in.Field, in.Masked)
	if in.Source != revealIssuer && !directoryPattern.MatchString(in.Source) {
		f = RevealForm(c, in.Place, in.CustomerID, revealIssuer, in.Field, in.Masked)
	}
	f.Error, f.Open, f.ReasonText = problem, true, in.ReasonText
	f.Reasons = make([]views.Option, len(revealReasons))
	for i, r := range revealReasons {
		r.Selected = r.Value == in.Reason
		f.Reasons[i] = r
	}
	return render(c, http.StatusUnprocessableEntity, views.RevealControl(f))
}

// revealValues looks the whole value up where the page showed it masked: the issuer record,
// or one directory's profile (from the comparison's short cache).
func (h *Handler) revealValues(ctx context.Context, in revealInput, reqID string) ([]string, error) {
	cust, err := h.customers.Get(ctx, in.CustomerID)
	if err != nil {
		return nil, err
	}
	if in.Source == revealIssuer {
		v := cust.Email
		if in.Field == "phone" {
			v = cust.Phone
		}
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	}
	res, err := h.profiles.GetProfiles(ctx, cust.ConsumerID, d1.FetchOptions{RequestID: reqID})
	if errors.Is(err, d1.ErrNotFound) {
		return nil, errRevealSourceUnknown
	}
	if err != nil {
		return nil, err
	}
	for _, p := range res.Profiles {
		if p.Directory != in.Source {
			continue
		}
		if in.Field == "email" {
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
