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
	// ErrorClass and ErrorAt describe why an unavailable column is unavailable; ErrorAt is when
	// the comparison gave up waiting for D1.
	ErrorClass string    `json:"errorClass,omitempty"`
	ErrorAt    time.Time `json:"errorAt,omitzero"`
	// CorrelationID is the x-correlation-id of the D1 call, for a support ticket.
	CorrelationID string `json:"correlationId,omitempty"`
	// Differences and Equivalents count this column's share of the summary.
	Differences int `json:"differences"`
	Equivalents int `json:"equivalents"`
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

// Different reports whether any cell of the row disagrees with the issuer, or only looks
// different (equivalent): what "Differences only" keeps, since an agent should see what only
// looks different as well.
func (r Row) Different() bool {
	for _, c := range r.Cells {
		if c.Verdict.IsDifference() || c.Verdict == Equivalent {
			return true
		}
	}
	return false
}

// Cell is one directory's value of one field: a Verdict when the two sides were compared, or
// a State when no comparison happens here. Exactly one of the two is set.
type Cell struct {
	Directory string    `json:"directory"`
	Verdict   Verdict   `json:"verdict,omitempty"`
	State     CellState `json:"state,omitempty"`
	Reason    Reason    `json:"reason,omitempty"`
	// DiffersIn locates a difference of an email or phone number without showing either value.
	DiffersIn []Part   `json:"differsIn,omitempty"`
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
	// Difference is set when the card is held on one side only and that is a difference: a
	// card the issuer does not know (KindCardUnknownToIssuer), or an active issuer card missing
	// from its directory's profile (KindCardNotEnrolled). It counts once, whatever the card's
	// fields.
	Difference string `json:"difference,omitempty"`
	// Fields are what the directory holds of a card the issuer does not know, for reference:
	// they are not compared, so they are not counted.
	Fields []FieldValue `json:"fields,omitempty"`
}

// FieldValue is one field of a card as one side holds it.
type FieldValue struct {
	Kind   string   `json:"kind"`
	Values []string `json:"values"`
}

// Finding is one thing worth telling a person, graded by severity. It holds kinds, keys and
// the card's last 4 only, never contact data, so it is safe for every role and for logs; the
// views package turns it into a sentence.
type Finding struct {
	Severity  Severity `json:"severity"`
	Kind      string   `json:"kind"`
	Directory string   `json:"directory,omitempty"`
	// Field is the data-field key of the row concerned; a contact takeover names two, comma
	// separated. FieldKind is the first field without its card prefix.
	Field     string `json:"field,omitempty"`
	FieldKind string `json:"fieldKind,omitempty"`
	CardKey   string `json:"cardKey,omitempty"`
	Last4     string `json:"last4,omitempty"`
	// IssuerStatus is the issuer's status of the card concerned.
	IssuerStatus string `json:"issuerStatus,omitempty"`
	// Reason says why an equivalent value is equivalent; DiffersIn where a contact value
	// differs.
	Reason    Reason `json:"reason,omitempty"`
	DiffersIn []Part `json:"differsIn,omitempty"`
}

// Summary counts what the comparison found, over the directories that hold a profile only:
// a directory that did not answer adds nothing, so zero risks from it means nothing was found
// in what was checked, never that it is clear.
type Summary struct {
	Directories int `json:"directories"`
	// Reached counts directories D1 answered for just now (not unavailable, not stale).
	Reached int `json:"reached"`
	// Enrolled counts directories holding a profile: the ones that were compared.
	Enrolled int `json:"enrolled"`
	// Unavailable counts directories that could not be checked at all.
	Unavailable int `json:"unavailable"`
	// Differences counts cells that disagree (differs or missing on one side) plus cards held
	// on one side only, once each.
	Differences int `json:"differences"`
	Equivalents int `json:"equivalents"`
	Risks       int `json:"risks"`
	Warnings    int `json:"warnings"`
}

// Checked reports whether anything was compared at all: without a profile anywhere, counts
// mean nothing and the page does not show them.
func (s Summary) Checked() bool { return s.Enrolled > 0 }

// Failure describes a D1 call that gave nothing usable, for the unavailable columns.
type Failure struct {
	// Class is a short, stable error class such as "timeout" or "unavailable"; it never holds
	// response bodies or customer data.
	Class         string
	CorrelationID string
	// At is when the comparison gave up waiting for D1.
	At time.Time
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
