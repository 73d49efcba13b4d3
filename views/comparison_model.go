package views

// ComparisonPage is the view model of the comparison fragment: the issuer record beside every
// Click to Pay directory, already masked for the viewer's role and shaped like the screen.
type ComparisonPage struct {
	CustomerID string
	// DiffOnly hides rows where every directory agrees with the issuer.
	DiffOnly bool
	// ToggleURL and TogglePageURL switch DiffOnly: the fragment to fetch and the page URL to
	// put in the address bar, so the choice survives a reload and can be shared.
	ToggleURL     string
	TogglePageURL string
	// RefreshURL is the POST that bypasses the cache.
	RefreshURL string
	CSRFToken  string
	// Masked says contact data is masked for this viewer.
	Masked bool
	// Notice is a one-line message above the grid, e.g. after a refresh was refused.
	Notice  string
	Summary ComparisonSummary
	Columns []DirectoryColumn
	Groups  []RowGroup
	// HiddenRows counts the rows DiffOnly hides.
	HiddenRows int
	Cards      []CardLine
	Risks      []FindingLine
	Findings   []FindingLine
}

// ComparisonSummary is the line above the grid.
type ComparisonSummary struct {
	Directories int
	Reached     int
	Enrolled    int
	Differences int
	Equivalents int
	Risks       int
}

// DirectoryColumn is one directory's column header: what the column is, and when it is not a
// fresh profile, why.
type DirectoryColumn struct {
	Directory string // the data-directory value, e.g. "VISA"
	Name      string // "Visa"
	State     string // profile, no-card, not-enrolled, unavailable
	// StateLabel is what the header says: "Profile", "Not enrolled", "Consumer with no card",
	// "Unavailable".
	StateLabel string
	Stale      bool
	// AgeText is how old stale data is, e.g. "5 minutes old".
	AgeText       string
	ErrorClass    string
	ErrorTime     string
	CorrelationID string
	FetchedTime   string
}

// RowGroup is a block of rows under one heading: the consumer, or one card.
type RowGroup struct {
	ID    string
	Title string
	Rows  []FieldRow
}

// FieldRow is one field: its label, the issuer's value and one cell per directory.
type FieldRow struct {
	Field     string
	Label     string
	Issuer    Value
	Cells     []FieldCell
	Different bool
}

// FieldCell is one directory's value of a field with its verdict.
type FieldCell struct {
	Directory string
	Verdict   string
	// VerdictLabel is the verdict in words, e.g. "Equivalent (case)".
	VerdictLabel string
	Icon         string
	Value        Value
}

// Value is what one cell prints: none, one or several items (a directory may hold several
// emails).
type Value struct {
	Items  []ValueItem
	Masked bool
	// Reveal, when set, stands in for the masked items: the viewer (an agent) may reveal the
	// whole value with a reason.
	Reveal *RevealForm
}

// ValueItem is one value ready to print: control and direction-changing characters made
// visible, Text cut short for the grid when needed, Full the whole (equally cleaned) text shown
// on focus.
type ValueItem struct {
	Text      string
	Full      string
	Truncated bool
}

// CardLine is one row of the card matrix.
type CardLine struct {
	Key      string
	Label    string // "•••• 4242"
	Scheme   string
	AtIssuer bool
	Issuer   string // "Active, expires 08/28" or "Not held by the issuer"
	Cells    []CardPresence
	Risk     bool
}

// CardPresence says what one directory holds of a card.
type CardPresence struct {
	Directory string
	// Presence is present, absent, not-applicable or unavailable.
	Presence string
	Text     string
}

// FindingLine is one finding in plain language.
type FindingLine struct {
	Severity string
	Message  string
	Field    string
}
