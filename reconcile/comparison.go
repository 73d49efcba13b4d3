package reconcile

import "time"

// Comparison is an issuer record set beside every directory's profile of the same customer.
// Columns, the Cells of every Row and the Directories of every CardRow share one order.
type Comparison struct {
	CustomerID string    `json:"customerId"`
	ConsumerID string    `json:"consumerId"`
	Columns    []Column  `json:"columns"`
	Rows       []Row     `json:"rows"`
	Cards      []CardRow `json:"cards"`
	Findings   []Finding `json:"findings"`
	Summary    Summary   `json:"summary"`
}

// Column is one directory and what D1 said about it.
type Column struct {
	Directory string      `json:"directory"`
	State     ColumnState `json:"state"`
	// Stale is set when D1 failed and the data comes from an earlier answer; AgeSeconds is how
	// old that answer is.
	Stale      bool      `json:"stale,omitempty"`
	AgeSeconds int64     `json:"ageSeconds,omitempty"`
	FetchedAt  time.Time `json:"fetchedAt,omitzero"`
	// ErrorClass and ErrorAt describe why an unavailable column is unavailable.
	ErrorClass string    `json:"errorClass,omitempty"`
	ErrorAt    time.Time `json:"errorAt,omitzero"`
	// CorrelationID is the x-correlation-id of the D1 call, for a support ticket.
	CorrelationID string `json:"correlationId,omitempty"`
}

// Row is one field: the issuer's value and one Cell per Column.
type Row struct {
	// Field is the stable key printed into data-field, e.g. "email" or "card:crd_1:expiry".
	Field string `json:"field"`
	// Kind is the field without its card prefix, e.g. "expiry" or "billing.city".
	Kind string `json:"kind"`
	// CardKey is the card the row belongs to (see CardRow.Key); empty for consumer fields.
	CardKey string   `json:"cardKey,omitempty"`
	Issuer  []string `json:"issuer"`
	Cells   []Cell   `json:"cells"`
}

// Different reports whether any cell of the row disagrees with the issuer, which decides what
// "Differences only" keeps.
func (r Row) Different() bool {
	for _, c := range r.Cells {
		if c.Verdict.IsDifference() {
			return true
		}
	}
	return false
}

// Cell is one directory's value of one field and its verdict.
type Cell struct {
	Directory string   `json:"directory"`
	Verdict   Verdict  `json:"verdict"`
	Reason    Reason   `json:"reason,omitempty"`
	Values    []string `json:"values"`
}

// CardRow is one line of the card matrix: a card known to the issuer, to a directory, or both.
type CardRow struct {
	// Key is the issuer's card id, or the directory's card id for a card the issuer does not
	// know. It is what card fields carry in their data-field.
	Key          string     `json:"key"`
	Last4        string     `json:"last4"`
	Scheme       string     `json:"scheme,omitempty"`
	AtIssuer     bool       `json:"atIssuer"`
	IssuerStatus string     `json:"issuerStatus,omitempty"`
	IssuerExpiry string     `json:"issuerExpiry,omitempty"`
	Directories  []CardCell `json:"directories"`
}

// CardCell says whether one directory holds the card, and how.
type CardCell struct {
	Directory string `json:"directory"`
	// Relevant is false when the card belongs to another scheme's directory and is not here.
	Relevant  bool   `json:"relevant"`
	Available bool   `json:"available"`
	Present   bool   `json:"present"`
	Status    string `json:"status,omitempty"`
	Expiry    string `json:"expiry,omitempty"`
	// MatchedBy says how a directory card was joined to the issuer's: "id" or "last4+expiry".
	MatchedBy string `json:"matchedBy,omitempty"`
}

// Finding is one thing worth telling a person, graded by severity, in plain language. Messages
// name fields, directories and card last 4 only, never contact data, so they are safe for every
// role and for logs.
type Finding struct {
	Severity  Severity `json:"severity"`
	Kind      string   `json:"kind"`
	Directory string   `json:"directory,omitempty"`
	Field     string   `json:"field,omitempty"`
	CardKey   string   `json:"cardKey,omitempty"`
	Message   string   `json:"message"`
}

// Summary counts what the comparison found.
type Summary struct {
	Directories int `json:"directories"`
	// Reached counts directories D1 answered for just now (not unavailable, not stale).
	Reached  int `json:"reached"`
	Enrolled int `json:"enrolled"`
	// Differences counts cells that disagree (differs or missing on one side) in directories
	// holding a profile.
	Differences int `json:"differences"`
	Equivalents int `json:"equivalents"`
	Risks       int `json:"risks"`
	Warnings    int `json:"warnings"`
}

// Failure describes a D1 call that gave nothing usable, for the unavailable columns.
type Failure struct {
	// Class is a short, stable error class such as "timeout" or "unavailable"; it never holds
	// response bodies or customer data.
	Class         string
	CorrelationID string
	At            time.Time
}

// Options tune Compare.
type Options struct {
	// Now is the time the comparison is made, used for the age of stale data.
	Now time.Time
	// MaxDirectories caps the number of columns, so a hostile answer with hundreds of directory
	// names cannot blow up the page. Zero means DefaultMaxDirectories.
	MaxDirectories int
}

// DefaultMaxDirectories is the column cap when Options.MaxDirectories is zero. Click to Pay has
// four card networks; eight leaves room without letting a broken answer take over the page.
const DefaultMaxDirectories = 8
