package views

import "github.com/a-h/templ"

// RevealForm is the "Reveal" control of one masked contact value: the masked text, and a small
// form that asks for a reason (a fixed list) and the case or ticket id it needs, and posts them. htmx swaps the answer (the value, or the form
// again with an error) in place of the control; without JavaScript the form posts normally.
type RevealForm struct {
	// ID is unique on the page; it ties the labels to their inputs and is the swap target.
	// Place is the part of it that says where on the page the control sits; the form posts
	// it back so a refused attempt comes back under the same id.
	ID    string
	Place string
	// Peer ("place:source") is sent along by every other Reveal control of the same field when
	// one of them is used, so that one reveal shows the field everywhere on the page.
	Peer      string
	PostURL   string
	CSRFToken string
	// Field is "email" or "phone"; Source is "issuer" or a directory such as "VISA".
	Field       string
	FieldLabel  string
	Source      string
	SourceLabel string
	// Masked is the value as shown before revealing, e.g. "j•••@example.com".
	Masked string
	// Reasons are the reason codes with their labels; the selected one echoes a refused
	// attempt, and so does Reference. MaxReference is the longest reference accepted.
	Reasons      []Option
	Reference    string
	MaxReference int
	// Error says why an attempt was refused, and ErrorField which input it is about
	// ("reason" or "reference"; empty when it is about neither).
	Error      string
	ErrorField string
	// Open keeps the form unfolded (after a refused attempt).
	Open bool
}

// reasonAttrs marks the reason select as the field in error, tied to the message.
func (r RevealForm) reasonAttrs() templ.Attributes {
	if r.Error == "" || r.ErrorField != "reason" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": r.ID + "-error"}
}

// referenceAttrs ties the reference input to its hint, and to the message when it is the
// field in error.
func (r RevealForm) referenceAttrs() templ.Attributes {
	a := templ.Attributes{"aria-describedby": r.ID + "-reference-hint"}
	if r.Error != "" && r.ErrorField == "reference" {
		a["aria-invalid"] = "true"
		a["aria-describedby"] = r.ID + "-reference-hint " + r.ID + "-error"
	}
	return a
}

// RevealedValue is what a successful reveal shows, for this page only: the whole value(s) of
// one field from one source.
type RevealedValue struct {
	// ID is the element id of the Reveal control the value replaces.
	ID          string   `json:"-"`
	CustomerID  string   `json:"customerId"`
	Field       string   `json:"field"`
	Source      string   `json:"source"`
	SourceLabel string   `json:"-"`
	FieldLabel  string   `json:"-"`
	Values      []string `json:"values"`
	// BackURL is where the no-JavaScript page links back to.
	BackURL string `json:"-"`
}
