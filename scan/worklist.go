package scan

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Item states: what people decided about a customer's findings.
const (
	ItemOpen            = "open"
	ItemUpdateRequested = "update-requested"
	ItemNoAction        = "no-action"
	ItemEscalated       = "escalated"
	ItemResolved        = "resolved"
)

// reasons are the reason codes each state takes. A decision names one; free text is never
// stored, so the worklist and the audit trail hold no personal data.
var reasons = map[string][]string{
	ItemOpen:            {"reopened"},
	ItemUpdateRequested: {"issuer-record-outdated", "directory-outdated", "customer-contacted"},
	ItemNoAction:        {"expected-difference", "format-only", "customer-confirmed"},
	ItemEscalated:       {"suspected-fraud", "card-risk", "contact-takeover"},
	ItemResolved:        {"updated-at-issuer", "updated-in-directory", "card-removed", "customer-confirmed"},
}

// ItemStates lists the states in the order a person moves through them.
func ItemStates() []string {
	return []string{ItemOpen, ItemUpdateRequested, ItemNoAction, ItemEscalated, ItemResolved}
}

// Reasons lists the reason codes of a state.
func Reasons(state string) []string { return slices.Clone(reasons[state]) }

// Viewer is whose worklist it is: fraud analysts see every finding, agents the data-quality
// differences only.
type Viewer string

// Viewers.
const (
	ViewerFraud Viewer = "fraud"
	ViewerAgent Viewer = "agent"
)

// Severities of an item, as filters and pages name them.
const (
	SeverityRisk = "risk"
	SeverityWarn = "warn"
)

// MaxWorklistPage bounds one page of the worklist.
const MaxWorklistPage = 500

// WorklistQuery is a filtered page of the worklist. Empty fields filter nothing.
type WorklistQuery struct {
	Viewer    Viewer
	Kind      string
	Severity  string
	Directory string
	State     string
	// Changed keeps items whose customer changed since the scan before.
	Changed bool
	// Assignee keeps items last decided by this subject; AssigneeNone keeps undecided ones.
	Assignee string
	// After is the cursor of the previous page's last row.
	After string
	Limit int
}

// AssigneeNone filters items nobody has decided on yet.
const AssigneeNone = "-"

// Item is one customer's worklist entry.
type Item struct {
	CustomerID    string
	State         string
	Reason        string
	DecidedBy     string
	DecidedByName string
	DecidedAt     time.Time
	Severity      string
	Kinds         []string
	Directories   []string
	Findings      int
	LastScanID    int64
	LastScannedAt time.Time
	Changed       bool
	ReopenedAt    time.Time
}

// WorklistPage is one page of items, the count of all items the filter keeps, and the cursor
// of the next page ("" on the last). The count stops at CountCap: Capped says there are more.
type WorklistPage struct {
	Items  []Item
	Total  int
	Capped bool
	Next   string
}

// CountCap is where the worklist stops counting: counting every item of a million-customer
// worklist on each page view would cost more than the page, and "more than 1,000" is what a
// person needs to know.
const CountCap = 1000

// cursor is a keyset position: the last row's severity and customer id.
type cursor struct {
	Severity int    `json:"s"`
	ID       string `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // an int and a string always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 200 || json.Unmarshal(b, &c) != nil || c.ID == "" || c.Severity < 0 || c.Severity > 1 {
		return cursor{}, fmt.Errorf("%w: the link to the next page is damaged or out of date", ErrInvalid)
	}
	return c, nil
}

// Validate refuses filter values no item can carry.
func (q WorklistQuery) Validate() error {
	if q.Viewer != ViewerFraud && q.Viewer != ViewerAgent {
		return fmt.Errorf("%w: viewer %q", ErrInvalid, q.Viewer)
	}
	if q.Kind != "" && !slices.Contains(RiskKinds(), q.Kind) && !slices.Contains(dataQualityKinds, q.Kind) {
		return fmt.Errorf("%w: unknown finding kind", ErrInvalid)
	}
	if q.Severity != "" && q.Severity != SeverityRisk && q.Severity != SeverityWarn {
		return fmt.Errorf("%w: severity must be risk or warn", ErrInvalid)
	}
	if q.State != "" && !slices.Contains(ItemStates(), q.State) {
		return fmt.Errorf("%w: unknown state", ErrInvalid)
	}
	for _, v := range []string{q.Directory, q.Assignee} {
		if len(v) > 64 || !utf8.ValidString(v) || strings.ContainsAny(v, ",%_\\") || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
			return fmt.Errorf("%w: a directory or assignee must be at most 64 plain characters", ErrInvalid)
		}
	}
	if q.Limit < 0 || q.Limit > MaxWorklistPage {
		return fmt.Errorf("%w: page size %d is out of range [1, %d]", ErrInvalid, q.Limit, MaxWorklistPage)
	}
	return nil
}

// where writes the query's filter. Agents' items are those with data-quality findings and no
// risk, and they filter and see those kinds only.
func (q WorklistQuery) where() (string, []any) {
	kinds, conds := "kinds", []string{"findings > 0"}
	if q.Viewer == ViewerAgent {
		// Only customers without a risk: a risk, and what fraud analysts decided about it, is
		// theirs alone, so an agent never learns of one from a row, its state or its
		// directories.
		// (findings > 0 always holds with dq_findings > 0; saying so lets the state and
		// assignee indexes, partial on it, serve agents too.)
		kinds, conds = "dq_kinds", []string{"findings > 0", "dq_findings > 0", "severity = 1"}
	}
	var args []any
	if q.Kind != "" {
		if q.Viewer == ViewerFraud && slices.Contains(dataQualityKinds, q.Kind) {
			// A data-quality kind is never graded a risk, so an item lists it in kinds exactly
			// when it lists it in dq_kinds. Filtering there lets the data-quality index serve,
			// which holds only items with such findings, instead of walking every risk first.
			kinds, conds = "dq_kinds", append(conds, "dq_findings > 0")
		}
		conds, args = append(conds, kinds+" LIKE ?"), append(args, "%,"+q.Kind+",%")
	}
	switch {
	case q.Severity == SeverityRisk && q.Viewer == ViewerAgent:
		conds = append(conds, "1 = 0")
	case q.Severity == SeverityRisk:
		conds, args = append(conds, "severity = ?"), append(args, severityRisk)
	case q.Severity == SeverityWarn && q.Viewer == ViewerFraud:
		conds, args = append(conds, "severity = ?"), append(args, severityWarn)
	}
	if q.Directory != "" {
		conds, args = append(conds, "directories LIKE ?"), append(args, "%,"+q.Directory+",%")
	}
	if q.State != "" {
		conds, args = append(conds, "state = ?"), append(args, q.State)
	}
	if q.Changed {
		conds = append(conds, "changed = 1")
	}
	switch q.Assignee {
	case "":
	case AssigneeNone:
		conds = append(conds, "decided_by = ''")
	default:
		conds, args = append(conds, "decided_by = ?"), append(args, q.Assignee)
	}
	return strings.Join(conds, " AND "), args
}

const itemColumns = "customer_id, state, reason, decided_by, decided_by_name, decided_at, severity, kinds, dq_kinds, " +
	"directories, findings, dq_findings, last_scan_id, last_scanned_at, changed, reopened_at"

func scanItem(s interface{ Scan(...any) error }, v Viewer) (Item, error) {
	var it Item
	var decided, reopened sql.NullInt64
	var severity, findings, dqFindings, changed, scanned int64
	var kinds, dqKinds, dirs string
	if err := s.Scan(&it.CustomerID, &it.State, &it.Reason, &it.DecidedBy, &it.DecidedByName, &decided, &severity, &kinds, &dqKinds,
		&dirs, &findings, &dqFindings, &it.LastScanID, &scanned, &changed, &reopened); err != nil {
		return Item{}, err
	}
	it.Severity, it.Findings = SeverityWarn, int(findings)
	if severity == severityRisk {
		it.Severity = SeverityRisk
	}
	if v == ViewerAgent {
		it.Severity, it.Findings, kinds = SeverityWarn, int(dqFindings), dqKinds
	}
	it.Kinds, it.Directories = unframe(kinds), unframe(dirs)
	it.Changed, it.LastScannedAt = changed != 0, time.UnixMilli(scanned).UTC()
	if decided.Valid {
		it.DecidedAt = time.UnixMilli(decided.Int64).UTC()
	}
	if reopened.Valid {
		it.ReopenedAt = time.UnixMilli(reopened.Int64).UTC()
	}
	return it, nil
}

func unframe(s string) []string {
	s = strings.Trim(s, ",")
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// countQuery counts the items the filter keeps, up to CountCap + 1. It runs in the page's order,
// so the count walks the index the page walks, filtering on its entries, rather than the one
// that looks smallest.
func (q WorklistQuery) countQuery() (string, []any) {
	where, args := q.where()
	return "SELECT count(*) FROM (SELECT 1 FROM worklist_items WHERE " + where + " ORDER BY severity, customer_id LIMIT ?) AS counted",
		append(args, CountCap+1)
}

// pageQuery selects the page after q.After, one row more than q.Limit (to tell whether a next
// page exists). For agents severity is 1 throughout; ordering by it as well lets their index
// serve.
func (q WorklistQuery) pageQuery() (string, []any, error) {
	where, args := q.where()
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return "", nil, err
		}
		if q.Viewer == ViewerAgent {
			where, args = where+" AND customer_id > ?", append(args, c.ID)
		} else {
			where, args = where+" AND (severity > ? OR (severity = ? AND customer_id > ?))", append(args, c.Severity, c.Severity, c.ID)
		}
	}
	return "SELECT " + itemColumns + " FROM worklist_items WHERE " + where + " ORDER BY severity, customer_id LIMIT ?", append(args, q.Limit+1), nil
}

// Worklist returns one page of the worklist, most severe first, then by customer id.
func (s *Scanner) Worklist(ctx context.Context, q WorklistQuery) (WorklistPage, error) {
	if err := q.Validate(); err != nil {
		return WorklistPage{}, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	var total int
	count, args := q.countQuery()
	if err := s.db.QueryRowContext(ctx, s.db.Rebind(count), args...).Scan(&total); err != nil {
		return WorklistPage{}, fmt.Errorf("scan: count worklist: %w", err)
	}
	pageSQL, args, err := q.pageQuery()
	if err != nil {
		return WorklistPage{}, err
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(pageSQL), args...)
	if err != nil {
		return WorklistPage{}, fmt.Errorf("scan: worklist: %w", err)
	}
	defer rows.Close()
	page := WorklistPage{Total: min(total, CountCap), Capped: total > CountCap}
	for rows.Next() {
		it, err := scanItem(rows, q.Viewer)
		if err != nil {
			return WorklistPage{}, fmt.Errorf("scan: worklist: %w", err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return WorklistPage{}, fmt.Errorf("scan: worklist: %w", err)
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		last := page.Items[len(page.Items)-1]
		sev := severityWarn
		if last.Severity == SeverityRisk {
			sev = severityRisk
		}
		page.Next = cursor{Severity: sev, ID: last.CustomerID}.encode()
	}
	return page, nil
}

// Item returns one customer's worklist item as the viewer sees it; ErrNotFound when there is
// none (or, for an agent, when it holds no data-quality finding or holds a risk).
func (s *Scanner) Item(ctx context.Context, customerID string, v Viewer) (Item, error) {
	full, err := scanItem(s.db.QueryRowContext(ctx, s.db.Rebind("SELECT "+itemColumns+" FROM worklist_items WHERE customer_id = ?"), customerID), ViewerFraud)
	it := full
	if err == nil && v == ViewerAgent {
		it, err = scanItem(s.db.QueryRowContext(ctx, s.db.Rebind("SELECT "+itemColumns+" FROM worklist_items WHERE customer_id = ?"), customerID), v)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && v == ViewerAgent && (len(it.Kinds) == 0 || full.Severity == SeverityRisk)) {
		return Item{}, fmt.Errorf("%w: no worklist item", ErrNotFound)
	}
	if err != nil {
		return Item{}, fmt.Errorf("scan: worklist item: %w", err)
	}
	return it, nil
}

// Decision is a person's decision on a worklist item.
type Decision struct {
	CustomerID string
	State      string
	Reason     string
	By, ByName string
	Viewer     Viewer
}

// Decide records a decision: the item's state, reason, person and time, and a line of its
// history, in one transaction. An agent may decide only items they see whole: a data-quality
// finding and no risk, which only fraud analysts decide on.
func (s *Scanner) Decide(ctx context.Context, d Decision) (Item, error) {
	if !slices.Contains(reasons[d.State], d.Reason) {
		return Item{}, fmt.Errorf("%w: %q is not a reason for %q", ErrInvalid, d.Reason, d.State)
	}
	if d.By == "" {
		return Item{}, fmt.Errorf("%w: a decision needs the person who made it", ErrInvalid)
	}
	if _, err := s.Item(ctx, d.CustomerID, d.Viewer); err != nil {
		return Item{}, err
	}
	now := s.now().UnixMilli()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Item{}, fmt.Errorf("scan: decide: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE worklist_items SET state = ?, reason = ?, decided_by = ?, decided_by_name = ?,
		decided_at = ?, updated_at = ? WHERE customer_id = ?`), d.State, d.Reason, d.By, d.ByName, now, now, d.CustomerID); err != nil {
		return Item{}, fmt.Errorf("scan: decide: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO worklist_decisions (customer_id, state, reason, decided_by, decided_by_name, decided_at)
		VALUES (?, ?, ?, ?, ?, ?)`), d.CustomerID, d.State, d.Reason, d.By, d.ByName, now); err != nil {
		return Item{}, fmt.Errorf("scan: decide: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Item{}, fmt.Errorf("scan: decide: %w", err)
	}
	return s.Item(ctx, d.CustomerID, d.Viewer)
}

// CustomerStatus is what the customer page says about the scans: when the customer was last
// scanned, whether anything changed since the scan before, and the worklist item.
type CustomerStatus struct {
	Scanned       bool
	LastScanID    int64
	LastScannedAt time.Time
	Outcome       string
	Changed       bool
	Item          *Item
}

// Customer returns the scan status of one customer as the viewer sees it.
func (s *Scanner) Customer(ctx context.Context, customerID string, v Viewer) (CustomerStatus, error) {
	var st CustomerStatus
	var at int64
	var digest string
	var prev sql.NullString
	// Every customer page asks this: the statement is prepared once.
	q, err := s.db.Prepared(ctx, "SELECT scan_id, scanned_at, outcome, digest, previous_digest FROM scan_customers WHERE customer_id = ?")
	if err == nil {
		err = q.QueryRowContext(ctx, customerID).Scan(&st.LastScanID, &at, &st.Outcome, &digest, &prev)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return CustomerStatus{}, nil
	}
	if err != nil {
		return CustomerStatus{}, fmt.Errorf("scan: customer status: %w", err)
	}
	st.Scanned, st.LastScannedAt = true, time.UnixMilli(at).UTC()
	st.Changed = prev.Valid && prev.String != digest
	it, err := s.Item(ctx, customerID, v)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return CustomerStatus{}, err
	default:
		st.Item = &it
	}
	return st, nil
}
