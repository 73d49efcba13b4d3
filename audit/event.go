// Package audit is ctpdesk's append-only, hash-chained audit trail: every access to customer
// data is committed durably before the data is sent, and the chain proves nobody edited it.
package audit

import "time"

// Action names what happened. The values are stable: auditors filter on them.
type Action string

// Actions recorded by ctpdesk.
const (
	ActionLogin          Action = "login"
	ActionLoginFailed    Action = "login.failed"
	ActionLogout         Action = "logout"
	ActionSessionExpired Action = "session.expired"
	ActionSessionRevoked Action = "session.revoked" // ended by the re-check at the OpenID Provider
	ActionAccessDenied   Action = "access.denied"
	ActionSearch         Action = "customer.search"
	ActionCustomerView   Action = "customer.view"
	ActionComparison     Action = "comparison.view"
	ActionRefresh        Action = "comparison.refresh"
	ActionReveal         Action = "field.reveal"
	ActionAuditRead      Action = "audit.read"
	ActionAuditExport    Action = "audit.export"
	// The portfolio scan: a person starting, cancelling or resuming one, the system finishing
	// one, and the staff's reads of the runs and the worklist and their decisions on it.
	ActionScanStart        Action = "scan.start"
	ActionScanCancel       Action = "scan.cancel"
	ActionScanResume       Action = "scan.resume"
	ActionScanFinish       Action = "scan.finish"
	ActionScansView        Action = "scan.view"
	ActionWorklistView     Action = "worklist.view"
	ActionWorklistExport   Action = "worklist.export"
	ActionWorklistDecision Action = "worklist.decision"
)

// Outcome says whether the action succeeded.
type Outcome string

// Outcomes.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// Actor is who acted: the OpenID Provider's issuer and subject, plus what the provider calls
// them and the roles they held.
type Actor struct {
	Issuer  string
	Subject string
	Name    string
	Roles   []string
}

// Event is one audit record as the caller gives it. Details hold ids and field names only,
// never an email, phone number, name or card number. Seq, Time and the hashes are set by the
// trail when the event is appended.
type Event struct {
	Seq        int64
	Time       time.Time
	Actor      Actor
	Action     Action
	Outcome    Outcome
	CustomerID string
	Details    map[string]string
	ClientIP   string
	UserAgent  string
	RequestID  string
	PrevHash   string
	Hash       string
	// Limits, when set on a success, make its append conditional: if the actor already has
	// Max successful events of this action within a limit's Window, the trail stores the event
	// as a failure instead (details failure=rate_limited and limit=Max/Window, the caller's
	// details kept) and Record returns a *LimitError. The check runs inside the append, so it
	// holds across replicas. Limits are a condition of the append, not part of the record:
	// they are neither stored nor hashed, and events read back have none.
	Limits []Limit
}
