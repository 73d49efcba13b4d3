package audit

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrBadFilter is returned for a query filter the trail cannot run.
var ErrBadFilter = errors.New("audit: bad filter")

// Page sizes for Query.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// MaxExportRows caps one CSV export; a bigger extract should be narrowed by time range.
const MaxExportRows = 100_000

// exportRowLimit is MaxExportRows; tests lower it to exercise truncation without writing a
// hundred thousand events.
var exportRowLimit = MaxExportRows

// TruncatedMarker is the last line of an export that hit MaxExportRows.
const TruncatedMarker = "# export truncated: more than 100000 events match; narrow the time range and export again"

// Filter selects events for the auditor pages. Empty fields do not filter. Results are
// newest first; Before is the keyset cursor (only events with seq < Before), 0 for the first
// page.
type Filter struct {
	// Actor matches the actor's subject or display name exactly.
	Actor      string
	CustomerID string
	Action     Action
	Outcome    Outcome
	// From and To bound the event time: From <= time < To.
	From   time.Time
	To     time.Time
	Before int64
	Limit  int
}

// ResultPage is one page of events, newest first. NextBefore is the cursor of the following
// page, 0 when there is none.
type ResultPage struct {
	Events     []Event
	NextBefore int64
}

func (f Filter) validate() (Filter, error) {
	switch {
	case f.Action != "" && !knownActions[f.Action]:
		return f, fmt.Errorf("%w: unknown action", ErrBadFilter)
	case f.Outcome != "" && f.Outcome != Success && f.Outcome != Failure:
		return f, fmt.Errorf("%w: unknown outcome", ErrBadFilter)
	case len(f.Actor) > maxSubject || len(f.CustomerID) > maxCustomerID:
		return f, fmt.Errorf("%w: value too long", ErrBadFilter)
	case !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To):
		return f, fmt.Errorf("%w: the time range ends before it starts", ErrBadFilter)
	case f.Before < 0 || f.Limit < 0:
		return f, fmt.Errorf("%w: negative cursor or limit", ErrBadFilter)
	}
	if f.Limit == 0 {
		f.Limit = DefaultPageSize
	}
	f.Limit = min(f.Limit, MaxPageSize)
	return f, nil
}

// where renders the filter as a parameterised WHERE clause.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Actor != "" {
		add("(actor_sub = ? OR actor_name = ?)", f.Actor, f.Actor)
	}
	if f.CustomerID != "" {
		add("customer_id = ?", f.CustomerID)
	}
	if f.Action != "" {
		add("action = ?", string(f.Action))
	}
	if f.Outcome != "" {
		add("outcome = ?", string(f.Outcome))
	}
	if !f.From.IsZero() {
		add("at_ms >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("at_ms < ?", f.To.UnixMilli())
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Query returns one page of events matching f, newest first.
func (t *Trail) Query(ctx context.Context, f Filter) (ResultPage, error) {
	f, err := f.validate()
	if err != nil {
		return ResultPage{}, err
	}
	where, args := f.where()
	args = append(args, f.Limit+1)
	rows, err := t.db.QueryContext(ctx, t.db.Rebind(
		"SELECT "+eventColumns+" FROM audit_events"+where+" ORDER BY seq DESC LIMIT ?"), args...)
	if err != nil {
		return ResultPage{}, fmt.Errorf("audit: query: %w", err)
	}
	defer rows.Close()
	var page ResultPage
	for rows.Next() {
		s, err := scanEvent(rows)
		if err != nil {
			return ResultPage{}, fmt.Errorf("audit: query: %w", err)
		}
		page.Events = append(page.Events, s.Event)
	}
	if err := rows.Err(); err != nil {
		return ResultPage{}, fmt.Errorf("audit: query: %w", err)
	}
	if len(page.Events) > f.Limit {
		page.Events = page.Events[:f.Limit]
		page.NextBefore = page.Events[f.Limit-1].Seq
	}
	return page, nil
}

// CSVHeader is the first row of an export.
var CSVHeader = []string{"seq", "time", "actor_issuer", "actor_subject", "actor_name", "roles", "action",
	"outcome", "customer_id", "details", "client_ip", "user_agent", "request_id", "prev_hash", "hash"}

// ExportCSV writes every event matching f (Before and Limit ignored, newest first, at most
// MaxExportRows, then TruncatedMarker when more match) to w as CSV and returns how many event
// rows it wrote. Cells that a spreadsheet
// would run as a formula are prefixed with an apostrophe.
func (t *Trail) ExportCSV(ctx context.Context, w io.Writer, f Filter) (int, error) {
	f.Before, f.Limit = 0, MaxPageSize
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, fmt.Errorf("audit: export: %w", err)
	}
	n, truncated := 0, false
	for !truncated {
		page, err := t.Query(ctx, f)
		if err != nil {
			return n, err
		}
		for _, e := range page.Events {
			if n == exportRowLimit {
				truncated = true
				break
			}
			if err := cw.Write(csvRow(e)); err != nil {
				return n, fmt.Errorf("audit: export: %w", err)
			}
			n++
		}
		if page.NextBefore == 0 {
			break
		}
		f.Before = page.NextBefore
	}
	if truncated {
		// The export never stops short silently: the last line says so, where the auditor
		// reading the file will see it.
		if err := cw.Write([]string{TruncatedMarker}); err != nil {
			return n, fmt.Errorf("audit: export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("audit: export: %w", err)
	}
	return n, nil
}

func csvRow(e Event) []string {
	row := []string{
		strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), e.Actor.Issuer,
		e.Actor.Subject, e.Actor.Name, strings.Join(e.Actor.Roles, " "), string(e.Action), string(e.Outcome),
		e.CustomerID, FormatDetails(e.Details), e.ClientIP, e.UserAgent, e.RequestID, e.PrevHash, e.Hash,
	}
	for i, c := range row {
		row[i] = defuseFormula(c)
	}
	return row
}

// FormatDetails renders details as "k=v" pairs sorted by key, separated by spaces.
func FormatDetails(d map[string]string) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + d[k]
	}
	return strings.Join(parts, " ")
}
