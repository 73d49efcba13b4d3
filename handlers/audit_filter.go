package handlers

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ctpdesk/audit"
	"ctpdesk/views"
)

// TimeExample is how the audit pages write a time: ISO 8601, in UTC, to the minute.
const TimeExample = "2026-12-01T09:00Z"

// timePattern is the form of a time filter the browser checks before sending (the server
// checks again): a date, optionally with a time, optionally with Z or an offset. It is an HTML
// pattern attribute, compiled with the v flag, hence the escaped hyphen.
const timePattern = `\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+\-]\d{2}:\d{2})?)?`

// auditTimeLayouts are the ISO 8601 forms a time filter may take, after upper-casing and with
// a space read as T. Without a zone a time is UTC.
var auditTimeLayouts = []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04",
	"2006-01-02T15:04:05", "2006-01-02"}

// errBadTime is returned for a time filter that is not an ISO 8601 time.
var errBadTime = errors.New("handlers: bad time")

// parseAuditTime reads a time filter. A date alone is the start of that day, or with endOfDay
// set the start of the next one, so "until 2026-12-01" includes the 1st.
func parseAuditTime(s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	norm := strings.Replace(strings.ToUpper(s), " ", "T", 1)
	for _, layout := range auditTimeLayouts {
		t, err := time.ParseInLocation(layout, norm, time.UTC)
		if err != nil {
			continue
		}
		if t.Year() < 2000 || t.Year() > 9999 {
			break
		}
		if endOfDay && layout == "2006-01-02" {
			t = t.AddDate(0, 0, 1)
		}
		return t.UTC(), nil
	}
	return time.Time{}, errBadTime
}

// formatAuditTime writes a time the way the audit pages show it: ISO 8601 in UTC, with
// milliseconds when withMillis is set.
func formatAuditTime(t time.Time, withMillis bool) string {
	if withMillis {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// filterProblem is a refused filter: the message says what to type instead, Field names the
// form field at fault.
type filterProblem struct {
	Field, Message string
}

func (p *filterProblem) Error() string { return "handlers: bad audit filter: " + p.Message }

// parseAuditFilter reads the filter of /audit and /audit/export from the query string. The
// form echoes what was typed, so a refused value can be corrected in place; the error is a
// *filterProblem.
func parseAuditFilter(q url.Values) (audit.Filter, views.AuditFilterForm, error) {
	form := views.AuditFilterForm{
		Actor:       strings.TrimSpace(q.Get("actor")),
		CustomerID:  strings.TrimSpace(q.Get("customer")),
		Action:      q.Get("action"),
		Outcome:     q.Get("outcome"),
		From:        strings.TrimSpace(q.Get("from")),
		To:          strings.TrimSpace(q.Get("to")),
		TimeExample: TimeExample,
		TimePattern: timePattern,
	}
	form.Actions, form.Outcomes = auditOptions(form.Action, form.Outcome)
	f := audit.Filter{Actor: form.Actor, CustomerID: form.CustomerID, Action: audit.Action(form.Action), Outcome: audit.Outcome(form.Outcome)}
	// A customer's history lists the accesses to the customer, not the auditors' reads of it,
	// unless those are asked for by their action.
	f.SkipTrailReads = f.CustomerID != "" && f.Action == ""
	bad := func(field, msg string) (audit.Filter, views.AuditFilterForm, error) {
		form.Invalid = field
		return audit.Filter{}, form, &filterProblem{Field: field, Message: msg}
	}
	switch {
	case len(form.Actor) > 255 || strings.ContainsFunc(form.Actor, isControl):
		return bad("actor", "The actor must be a subject or name of at most 255 characters.")
	case len(form.CustomerID) > 128 || strings.ContainsFunc(form.CustomerID, isControl):
		return bad("customer", "The customer id must be at most 128 characters.")
	case form.Action != "" && !audit.ValidAction(f.Action):
		return bad("action", "Choose an action from the list.")
	case form.Outcome != "" && f.Outcome != audit.Success && f.Outcome != audit.Failure:
		return bad("outcome", "The outcome must be success or failure.")
	}
	var err error
	if f.From, err = parseAuditTime(form.From, false); err != nil {
		return bad("from", "The start time must be an ISO 8601 time in UTC, like "+TimeExample+", or a date, like 2026-12-01.")
	}
	if f.To, err = parseAuditTime(form.To, true); err != nil {
		return bad("to", "The end time must be an ISO 8601 time in UTC, like "+TimeExample+", or a date, like 2026-12-01.")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return bad("to", "The time range ends before it starts.")
	}
	if raw := q.Get("before"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			return bad("", "The page cursor is not valid; start again from the newest events.")
		}
		f.Before = n
	}
	return f, form, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// problemStatus is the answer to a refused filter: a 400 whose page shows the form again
// with the message.
func problemStatus(err error) (*filterProblem, bool) {
	var p *filterProblem
	if errors.As(err, &p) {
		return p, true
	}
	if errors.Is(err, audit.ErrVagueActor) {
		return &filterProblem{Field: "actor", Message: "The actor matches too many people: type more of the subject or name."}, true
	}
	return nil, false
}

func auditOptions(action, outcome string) (actions, outcomes []views.Option) {
	for _, a := range audit.Actions() {
		actions = append(actions, views.Option{Value: string(a), Label: string(a), Selected: string(a) == action})
	}
	for _, o := range []audit.Outcome{audit.Success, audit.Failure} {
		outcomes = append(outcomes, views.Option{Value: string(o), Label: string(o), Selected: string(o) == outcome})
	}
	return actions, outcomes
}

// auditQuery is the query string of a filtered view, with a page cursor when before > 0.
func auditQuery(form views.AuditFilterForm, before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": form.Actor, "customer": form.CustomerID, "action": form.Action,
		"outcome": form.Outcome, "from": form.From, "to": form.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// auditFilterDetails says, for the trail, how the auditor filtered: the filter names used and
// the action and outcome chosen. The actor and time values are left out; the customer id goes
// into the event's customer field.
func auditFilterDetails(f audit.Filter, form views.AuditFilterForm) map[string]string {
	var used []string
	for _, p := range []struct{ name, value string }{{"actor", form.Actor}, {"customer", form.CustomerID},
		{"action", form.Action}, {"outcome", form.Outcome}, {"from", form.From}, {"to", form.To}} {
		if p.value != "" {
			used = append(used, p.name)
		}
	}
	d := map[string]string{}
	if len(used) > 0 {
		d["filters"] = strings.Join(used, ",")
	}
	if f.Action != "" {
		d["action"] = string(f.Action)
	}
	if f.Outcome != "" {
		d["outcome"] = string(f.Outcome)
	}
	if f.Before > 0 {
		d["before"] = strconv.FormatInt(f.Before, 10)
	}
	return d
}
