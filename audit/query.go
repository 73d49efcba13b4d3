package audit

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	// Actor matches, ignoring case, the start of the actor's subject, of their display name,
	// of any word of it, or of the email their latest sign-in gave (see NoteSignIn): "agent",
	// "alex" and "agent@dev" all find Alex Agent (devidp-agent, agent@devidp.invalid).
	Actor      string
	CustomerID string
	Action     Action
	Outcome    Outcome
	// SkipTrailReads leaves out the auditors' own reads and exports of the trail, so a
	// customer's history lists the accesses to the customer's data.
	SkipTrailReads bool
	// From and To bound the event time: From <= time < To.
	From   time.Time
	To     time.Time
	Before int64
	Limit  int

	// actors is what Actor stands for, once looked up (see resolveActor).
	actors *actorMatch
}

// actorMatch is the distinct subjects and display names an actor filter matched.
type actorMatch struct {
	subjects, names []string
}

// Limits of the actor filter: a filter standing for more actors than maxActorMatches is
// refused as too vague, and past maxDistinctActors distinct subjects or names in the trail it
// matches them exactly instead of by prefix. Tests lower them.
var (
	maxActorMatches   = 500
	maxDistinctActors = 20_000
)

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
	case !utf8.ValidString(f.Actor) || !utf8.ValidString(f.CustomerID):
		return f, fmt.Errorf("%w: not valid UTF-8", ErrBadFilter)
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

// ErrVagueActor is returned (wrapping ErrBadFilter) for an actor filter that matches more
// than maxActorMatches people.
var ErrVagueActor = fmt.Errorf("%w: the actor filter matches too many people", ErrBadFilter)

// resolveActor looks up which subjects and display names f.Actor stands for. The trail's
// distinct subjects and names are listed by a skip scan over their indexes (one probe per
// distinct value, however many events each has), then matched here, so the query that
// follows uses those indexes with plain equality.
func (t *Trail) resolveActor(ctx context.Context, f Filter) (Filter, error) {
	if f.Actor == "" || f.actors != nil {
		return f, nil
	}
	m := &actorMatch{}
	for _, col := range []struct {
		name  string
		dst   *[]string
		words bool
	}{{"actor_sub", &m.subjects, false}, {"actor_name", &m.names, true}} {
		values, err := t.distinctValues(ctx, col.name, maxDistinctActors+1)
		if err != nil {
			return f, err
		}
		if len(values) > maxDistinctActors {
			// Too many to match by prefix here: the exact value still finds its events.
			*col.dst = []string{f.Actor}
			continue
		}
		for _, v := range values {
			if ActorMatches(f.Actor, v, col.words) {
				*col.dst = append(*col.dst, v)
			}
		}
	}
	byEmail, err := t.emailSubjects(ctx, f.Actor)
	if err != nil {
		return f, err
	}
	for _, sub := range byEmail {
		if !slices.Contains(m.subjects, sub) {
			m.subjects = append(m.subjects, sub)
		}
	}
	if len(m.subjects)+len(m.names) > maxActorMatches {
		return f, ErrVagueActor
	}
	f.actors = m
	return f, nil
}

// ActorMatches says whether an actor filter matches value (a subject, or with words set a
// display name): ignoring case, value starts with the filter, or one of its words does.
func ActorMatches(filter, value string, words bool) bool {
	q := strings.ToLower(strings.TrimSpace(filter))
	v := strings.ToLower(value)
	if q == "" || strings.HasPrefix(v, q) {
		return q != ""
	}
	if !words {
		return false
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if strings.HasPrefix(w, q) {
			return true
		}
	}
	return false
}

// distinctValues lists up to limit distinct non-empty values of an indexed column of
// audit_events in order, one index probe per value.
func (t *Trail) distinctValues(ctx context.Context, col string, limit int) ([]string, error) {
	q := `WITH RECURSIVE v (x) AS (
			SELECT (SELECT ` + col + ` FROM audit_events WHERE ` + col + ` > '' ORDER BY ` + col + ` LIMIT 1)
			UNION ALL
			SELECT (SELECT ` + col + ` FROM audit_events WHERE ` + col + ` > v.x ORDER BY ` + col + ` LIMIT 1)
			FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL LIMIT ?`
	rows, err := t.db.QueryContext(ctx, t.db.Rebind(q), limit)
	if err != nil {
		return nil, fmt.Errorf("audit: actors: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("audit: actors: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: actors: %w", err)
	}
	return out, nil
}

// where renders the filter as a parameterised WHERE clause; an actor filter must be resolved.
func (f Filter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.actors != nil {
		var or []string
		if n := len(f.actors.subjects); n > 0 {
			or = append(or, "actor_sub IN ("+marks(n)+")")
			args = append(args, anys(f.actors.subjects)...)
		}
		if n := len(f.actors.names); n > 0 {
			or = append(or, "actor_name IN ("+marks(n)+")")
			args = append(args, anys(f.actors.names)...)
		}
		if len(or) == 0 {
			or = []string{"1 = 0"} // nobody matches
		}
		conds = append(conds, "("+strings.Join(or, " OR ")+")")
	}
	if f.CustomerID != "" {
		add("customer_id = ?", f.CustomerID)
	}
	if f.Action != "" {
		add("action = ?", string(f.Action))
	}
	if f.SkipTrailReads {
		add("action NOT IN (?, ?)", string(ActionAuditRead), string(ActionAuditExport))
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

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Query returns one page of events matching f, newest first.
func (t *Trail) Query(ctx context.Context, f Filter) (ResultPage, error) {
	f, err := f.validate()
	if err != nil {
		return ResultPage{}, err
	}
	if f, err = t.resolveActor(ctx, f); err != nil {
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

// RecentActors returns up to limit distinct actors of the latest events, most recent first,
// each with the email of their latest sign-in when the directory has one: the suggestions of
// the actor filter.
func (t *Trail) RecentActors(ctx context.Context, limit int) ([]Person, error) {
	rows, err := t.db.QueryContext(ctx, t.db.Rebind(
		"SELECT actor_iss, actor_sub, actor_name FROM audit_events WHERE actor_sub <> '' ORDER BY seq DESC LIMIT ?"),
		recentActorEvents)
	if err != nil {
		return nil, fmt.Errorf("audit: recent actors: %w", err)
	}
	defer rows.Close()
	seen := map[[2]string]bool{}
	var out []Actor
	for rows.Next() && len(out) < limit {
		var a Actor
		if err := rows.Scan(&a.Issuer, &a.Subject, &a.Name); err != nil {
			return nil, fmt.Errorf("audit: recent actors: %w", err)
		}
		if k := [2]string{a.Issuer, a.Subject}; !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: recent actors: %w", err)
	}
	rows.Close()
	emails, err := t.emailsOf(ctx, out)
	if err != nil {
		return nil, err
	}
	people := make([]Person, len(out))
	for i, a := range out {
		people[i] = Person{Issuer: a.Issuer, Subject: a.Subject, Name: a.Name, Email: emails[[2]string{a.Issuer, a.Subject}]}
	}
	return people, nil
}

// recentActorEvents is how many of the latest events RecentActors looks through.
const recentActorEvents = 2000

// CSVHeader is the first row of an export.
var CSVHeader = []string{"seq", "time", "actor_issuer", "actor_subject", "actor_name", "roles", "action",
	"outcome", "customer_id", "details", "client_ip", "user_agent", "request_id", "prev_hash", "hash"}

// ExportCSV writes every event matching f (Before and Limit ignored, newest first, at most
// MaxExportRows, then TruncatedMarker when more match) to w as CSV and returns how many event
// rows it wrote. Cells that a spreadsheet
// would run as a formula are prefixed with an apostrophe.
func (t *Trail) ExportCSV(ctx context.Context, w io.Writer, f Filter) (int, error) {
	f.Before, f.Limit = 0, MaxPageSize
	// The actor is looked up once for every page of the export.
	f, err := t.resolveActor(ctx, f)
	if err != nil {
		return 0, err
	}
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
