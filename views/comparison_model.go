package views

// ComparisonPage is the view model of the comparison fragment: the issuer record beside every
// Click to Pay directory, already masked for the viewer's role, worded and shaped like the
// screen. Every string in it is ready to print.
type ComparisonPage struct {
	CustomerID string
	// DiffOnly hides rows where every directory agrees with the issuer.
	DiffOnly bool
	// CanFilter is false when no directory holds a profile: there is nothing to filter, the
	// switch is left out and every field is shown beside the explained columns.
	CanFilter bool
	// ToggleURL and TogglePageURL switch DiffOnly: the fragment to fetch and the page URL to
	// put in the address bar, so the choice survives a reload and can be shared.
	ToggleURL     string
	TogglePageURL string
	ToggleLabel   string
	// RefreshURL is the POST that bypasses the cache ("Refresh from D1", and "Retry").
	RefreshURL string
	CSRFToken  string
	// MaskedNote is said when contact data is masked for this viewer; empty otherwise.
	MaskedNote string
	// Notice is a one-line message above the grid, e.g. after a refresh was refused.
	Notice string
	// Outcome, when set, is said first: a directory could not be checked, or D1 does not know
	// the consumer.
	Outcome *ComparisonOutcome
	Summary ComparisonSummary
	Columns []DirectoryColumn
	Grid    ComparisonGrid
	Cards   CardMatrix
	// RisksTitle heads the risks, e.g. "1 risk found".
	RisksTitle string
	Risks      []FindingLine
	// FindingsTitle heads the other findings, e.g. "3 other findings".
	FindingsTitle string
	Findings      []FindingLine
}

// ComparisonOutcome explains why some or all directories say nothing: D1 did not answer, or
// it does not know the consumer.
type ComparisonOutcome struct {
	// Kind is "unavailable" or "not-registered" (data-outcome).
	Kind          string
	Title         string
	Detail        string
	CorrelationID string
	NextStep      string
	// RetryLabel, when set, offers to ask D1 again (the refresh POST).
	RetryLabel string
}

// ComparisonSummary is the line under the title. Counts are printed only when something was
// compared (Counted); the numbers are also given as data-* hooks.
type ComparisonSummary struct {
	Counted     bool
	Differences int
	Equivalents int
	Risks       int
	// Scope says what the counts cover, e.g. "Compared with Visa and Mastercard".
	Scope           string
	DifferencesText string
	EquivalentsText string
	RisksText       string
	// Notes follow the counts: directories not enrolled, an answer from the cache.
	Notes []string
}

// DirectoryColumn is one directory's column header: what the column is, and when it is not a
// fresh profile, why.
type DirectoryColumn struct {
	Directory string // the data-directory value, e.g. "VISA"
	Name      string // "Visa"
	State     string // profile, no-card, not-enrolled, not-registered, unavailable
	// StateLabel is what the header says: "Profile", "Not enrolled", "Consumer with no card",
	// "Not registered at D1", "Not checked".
	StateLabel string
	Stale      bool
	// StaleText says how old a cached answer is, e.g. "Stale: 5 minutes old".
	StaleText string
	// Detail says why a column is unavailable, e.g. "D1 timeout at 14:03:12 UTC".
	Detail        string
	CorrelationID string
	// Collapsed columns hold no profile: the grid shows one explained cell for them instead
	// of a verdict per row. Explain is its text.
	Collapsed bool
	Explain   string
}

// ComparisonGrid is the side-by-side table.
type ComparisonGrid struct {
	Caption string
	// HiddenNote says how many rows "differences only" hides; empty when none are.
	HiddenNote string
	Groups     []RowGroup
	// EmptyText replaces the rows when none is left to show.
	EmptyText string
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

// FieldCell is one directory's value of a field: a verdict, or a state when no comparison
// happens there, or (in a collapsed column) one cell spanning the group's rows.
type FieldCell struct {
	Directory string
	// Verdict (data-verdict) or State (data-state): exactly one is set.
	Verdict string
	State   string
	// Label is the verdict or state in words, e.g. "Equivalent (case)"; Detail adds where a
	// masked value differs, e.g. "in the domain".
	Label  string
	Detail string
	Icon   string
	Value  Value
	// RowSpan is set on the first cell of a collapsed column in a group (Explain is its text);
	// Covered marks the cells below it, which are not printed.
	RowSpan int
	Explain string
	Covered bool
}

// Value is what one cell prints: none, one or several items (a directory may hold several
// emails).
type Value struct {
	Items  []ValueItem
	Masked bool
	// EmptyText is read out for a cell without a value ("no value").
	EmptyText string
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

// CardMatrix is the table of cards at the issuer and in each directory.
type CardMatrix struct {
	Caption string
	Columns []DirectoryColumn
	Lines   []CardLine
}

// CardLine is one row of the card matrix.
type CardLine struct {
	Key    string
	Label  string // "•••• 4242"
	Scheme string
	Issuer string // "Active · expires 08/28" or "Not held by the issuer"
	Cells  []CardPresence
	Risk   bool
	// Difference is set when the card is held on one side only: one difference, however many
	// fields the card has.
	Difference bool
}

// CardPresence says what one directory holds of a card.
type CardPresence struct {
	Directory string
	// Presence is present, absent, not-applicable, unavailable or no-profile (data-presence).
	Presence string
	Icon     string
	Text     string
	// DifferenceText says why this cell is a difference, e.g. "One difference: not enrolled".
	DifferenceText string
	// FieldsTitle and Fields show, for reference, what a directory holds of a card the issuer
	// does not know.
	FieldsTitle string
	Fields      []LabeledValue
	// RowSpan and Covered collapse a directory that holds no profile into one cell.
	RowSpan int
	Covered bool
}

// LabeledValue is a label and a value ready to print.
type LabeledValue struct {
	Label string
	Value string
}

// FindingLine is one finding in plain language; risks add the next step and a summary to copy
// into a case.
type FindingLine struct {
	Severity      string
	SeverityLabel string
	Message       string
	Field         string
	NextStep      string
	// CaseID is the element id of the case summary; CaseText holds ids, the directory, the
	// finding and the D1 correlation id, never contact data.
	CaseID    string
	CaseTitle string
	CaseText  string
	// CopyLabel is the copy button's label, CopiedLabel what it says once the text is copied.
	CopyLabel   string
	CopiedLabel string
}
