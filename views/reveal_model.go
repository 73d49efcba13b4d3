package views

// RevealForm is the "Reveal" control of one masked contact value: the masked text, and a small
// form that asks for a reason and posts it. htmx swaps the answer (the value, or the form
// again with an error) in place of the control; without JavaScript the form posts normally.
type RevealForm struct {
	// ID is unique on the page; it ties the labels to their inputs and is the swap target.
	// Place is the part of it that says where on the page the control sits; the form posts
	// it back so a refused attempt comes back under the same id.
	ID        string
	Place     string
	PostURL   string
	CSRFToken string
	// Field is "email" or "phone"; Source is "issuer" or a directory such as "VISA".
	Field       string
	FieldLabel  string
	Source      string
	SourceLabel string
	// Masked is the value as shown before revealing, e.g. "j•••@example.com".
	Masked  string
	Reasons []Option
	// Reason and ReasonText echo a refused attempt; Error says why it was refused.
	ReasonText string
	Error      string
	// Open keeps the form unfolded (after a refused attempt).
	Open bool
}

// RevealedValue is what a successful reveal shows, for this page only: the whole value(s) of
// one field from one source.
type RevealedValue struct {
	CustomerID  string   `json:"customerId"`
	Field       string   `json:"field"`
	Source      string   `json:"source"`
	SourceLabel string   `json:"-"`
	FieldLabel  string   `json:"-"`
	Values      []string `json:"values"`
	// BackURL is where the no-JavaScript page links back to.
	BackURL string `json:"-"`
}
