package views

// AuditPage is the view model of the auditors' page (/audit): the filter form, the chain's
// status, one page of events newest first and the links around it. Its JSON form is the
// page's JSON twin.
type AuditPage struct {
	Filter AuditFilterForm `json:"filter"`
	Chain  ChainStatus     `json:"chain"`
	Rows   []AuditRow      `json:"events"`
	// NextURL is the next (older) page, "" on the last one; FirstURL goes back to the newest
	// events and is "" on the first page.
	NextURL  string `json:"next,omitempty"`
	FirstURL string `json:"first,omitempty"`
	// ExportURL downloads every event matching the filter as CSV.
	ExportURL string `json:"export"`
	// Problem says why the filter was refused; the page then lists no events.
	Problem string `json:"error,omitempty"`
	// History is the customer id when the page is that customer's access history.
	History string `json:"customerHistory,omitempty"`
	// Range says which times the filter covers, in UTC ("from 2026-12-01T00:00:00Z").
	Range string `json:"range,omitempty"`
}

// AuditFilterForm is the filter form as the auditor filled it in, echoed back, with the
// choices of its selects.
type AuditFilterForm struct {
	Actor      string   `json:"actor,omitempty"`
	CustomerID string   `json:"customerId,omitempty"`
	Action     string   `json:"action,omitempty"`
	Outcome    string   `json:"outcome,omitempty"`
	From       string   `json:"from,omitempty"`
	To         string   `json:"to,omitempty"`
	Actions    []Option `json:"-"`
	Outcomes   []Option `json:"-"`
	// ActorOptions are the suggested actors: value the subject, label the name.
	ActorOptions []Option `json:"-"`
	// Invalid names the field a refused filter is at fault in ("actor", "from", …).
	Invalid string `json:"-"`
	// TimeExample and TimePattern are the time fields' placeholder and HTML pattern.
	TimeExample string `json:"-"`
	TimePattern string `json:"-"`
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// ChainStatus is the result of the latest verification of the hash chain.
type ChainStatus struct {
	// State is "verified", "broken" or "unknown" (the check could not run).
	State string `json:"state"`
	// Text is the one-line verdict: "verified N events up to seq K" or the first break.
	Text      string `json:"text"`
	CheckedAt string `json:"checkedAt,omitempty"`
}

// AuditRow is one event as the table shows it.
type AuditRow struct {
	Seq          int64  `json:"seq"`
	Time         string `json:"time"`
	ActorName    string `json:"actorName"`
	ActorSubject string `json:"actorSubject"`
	ActorIssuer  string `json:"actorIssuer"`
	Roles        string `json:"roles"`
	Action       string `json:"action"`
	Outcome      string `json:"outcome"`
	CustomerID   string `json:"customerId,omitempty"`
	// CustomerURL filters the trail by this customer.
	CustomerURL string `json:"-"`
	Details     string `json:"details,omitempty"`
	ClientIP    string `json:"clientIp"`
	UserAgent   string `json:"userAgent,omitempty"`
	RequestID   string `json:"requestId"`
	Hash        string `json:"hash"`
	// HashShort is the start of the hash, enough to compare by eye.
	HashShort string `json:"-"`
}
