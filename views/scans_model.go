package views

// ScansPage is the view model of /scans: the runs newest first and the Start form. Its JSON
// form is the page's JSON twin.
type ScansPage struct {
	Runs []ScanRun `json:"runs"`
	// CanStart is false while a scan runs: only one runs at a time.
	CanStart bool `json:"canStart"`
	// Polling is set while a run is in progress, so the page refreshes its table.
	Polling bool `json:"-"`
}

// ScanRun is one scan as the table shows it.
type ScanRun struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	StateText string `json:"-"`
	Trigger   string `json:"trigger"`
	StartedBy string `json:"startedBy"`
	StartedAt string `json:"startedAt"`
	EndedAt   string `json:"endedAt,omitempty"`
	// Meta is the run's line for people: "started … by … (analyst), ended …".
	Meta string `json:"-"`
	// Done and Total are customers; Percent is Done of Total (0 while planning).
	Done    int `json:"done"`
	Total   int `json:"total"`
	Percent int `json:"percent"`
	// CallsPerSecond is D1 calls a second, written for people ("4.8").
	CallsPerSecond string  `json:"callsPerSecond"`
	EstimatedEnd   string  `json:"estimatedEnd,omitempty"`
	Errors         []Count `json:"errors,omitempty"`
	// Summary is filled once the run has ended.
	Summary *ScanSummary `json:"summary,omitempty"`
	// CanCancel and CanResume decide the run's buttons.
	CanCancel bool `json:"-"`
	CanResume bool `json:"-"`
}

// ScanSummary is what a finished (or cancelled) scan found.
type ScanSummary struct {
	Checked         int     `json:"checked"`
	WithDifferences int     `json:"withDifferences"`
	WithRisks       int     `json:"withRisks"`
	Unavailable     int     `json:"unavailable"`
	NotRegistered   int     `json:"notRegistered"`
	RiskKinds       []Count `json:"riskKinds"`
}

// Count is a labelled number.
type Count struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int    `json:"n"`
}
