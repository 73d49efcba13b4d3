package views

// WorklistPage is the view model of /worklist: the filter form, the count, one page of items
// most severe first and the links around it. Its JSON form is the page's JSON twin.
type WorklistPage struct {
	Filter WorklistFilter `json:"filter"`
	Total  int            `json:"total"`
	// Capped says the count stopped at Total: there are more.
	Capped bool           `json:"totalCapped,omitempty"`
	Items  []WorklistItem `json:"items"`
	// NextURL is the next page ("" on the last); FirstURL the first ("" on the first).
	NextURL   string `json:"next,omitempty"`
	FirstURL  string `json:"first,omitempty"`
	ExportURL string `json:"export"`
	// RiskView is set for fraud analysts, who see risks; agents see data quality only.
	RiskView bool `json:"-"`
}

// WorklistFilter is the filter form as filled in, with the choices of its selects.
type WorklistFilter struct {
	Kind       string   `json:"kind,omitempty"`
	Severity   string   `json:"severity,omitempty"`
	Directory  string   `json:"directory,omitempty"`
	State      string   `json:"state,omitempty"`
	Changed    bool     `json:"changed,omitempty"`
	Assignee   string   `json:"assignee,omitempty"`
	Kinds      []Option `json:"-"`
	Severities []Option `json:"-"`
	States     []Option `json:"-"`
	Assignees  []Option `json:"-"`
}

// WorklistItem is one customer's row.
type WorklistItem struct {
	CustomerID  string   `json:"customerId"`
	CustomerURL string   `json:"-"`
	Severity    string   `json:"severity"`
	Kinds       []string `json:"kinds"`
	KindLabels  []string `json:"-"`
	Directories []string `json:"directories"`
	State       string   `json:"state"`
	StateText   string   `json:"-"`
	Reason      string   `json:"reason,omitempty"`
	DecidedBy   string   `json:"decidedBy,omitempty"`
	DecidedAt   string   `json:"decidedAt,omitempty"`
	LastScanned string   `json:"lastScanned"`
	Changed     bool     `json:"changed"`
	Reopened    bool     `json:"reopened"`
	// Decide is the decision form of the row.
	Decide DecisionForm `json:"-"`
}

// DecisionForm posts a decision on one worklist item.
type DecisionForm struct {
	Action    string
	CSRFToken string
	ReturnTo  string
	State     string
	Choices   []DecisionChoice
}

// DecisionChoice is one state and reason a person can pick, written "state:reason".
type DecisionChoice struct {
	Value string
	Label string
}

// CustomerScan is what the customer page says about the portfolio scans: when the customer was
// last scanned, whether anything changed since the scan before, and the worklist item.
type CustomerScan struct {
	Scanned     bool   `json:"scanned"`
	LastScanned string `json:"lastScanned,omitempty"`
	Changed     bool   `json:"changed"`
	// Line is the sentence the page shows: "Last scanned …, changed since the last scan."
	Line string `json:"-"`
	// HasItem says the customer has a worklist item the viewer sees.
	HasItem   bool          `json:"hasItem"`
	State     string        `json:"state,omitempty"`
	StateText string        `json:"-"`
	Reason    string        `json:"reason,omitempty"`
	DecidedBy string        `json:"decidedBy,omitempty"`
	Kinds     []string      `json:"kinds,omitempty"`
	Decide    *DecisionForm `json:"-"`
}
