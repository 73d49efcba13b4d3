package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/config"
	"ctpdesk/internal/loadtest/drive"
	"ctpdesk/store"
)

// Page budgets the load test holds the dashboard to: search within 100 ms, a comparison within
// the D1 latency plus 100 ms.
const (
	searchBudget          = 100 * time.Millisecond
	comparisonBudgetSlack = 100 * time.Millisecond
)

// check is one pass/fail statement of a load run's report.
type check struct {
	Name   string
	OK     bool
	Detail string
}

// AuditedActions maps the request kinds that show customer data to the event each must leave.
func auditedAction(kind string) (audit.Action, bool) {
	switch {
	case strings.HasPrefix(kind, kindSearchPrefix):
		return audit.ActionSearch, true
	case kind == KindCustomer:
		return audit.ActionCustomerView, true
	case kind == kindComparison:
		return audit.ActionComparison, true
	}
	return "", false
}

// auditQuerier is the part of the audit trail the checks read.
type auditQuerier interface {
	Query(ctx context.Context, f audit.Filter) (audit.ResultPage, error)
}

// AuditEventsByRequest counts the successful events of each action by request id, reading the
// whole trail page by page through the audit package's query API.
func AuditEventsByRequest(ctx context.Context, q auditQuerier, actions ...audit.Action) (map[audit.Action]map[string]int, error) {
	out := map[audit.Action]map[string]int{}
	for _, action := range actions {
		byID := map[string]int{}
		f := audit.Filter{Action: action, Outcome: audit.Success, Limit: audit.MaxPageSize}
		for {
			page, err := q.Query(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("loadtest: read audit trail: %w", err)
			}
			for _, e := range page.Events {
				byID[e.RequestID]++
			}
			if page.NextBefore == 0 {
				break
			}
			f.Before = page.NextBefore
		}
		out[action] = byID
	}
	return out, nil
}

// AuditMatch compares the responses that showed data with the events of one action.
type AuditMatch struct {
	Action    audit.Action
	Responses int // 200 answers the client received
	Events    int // successful events in the trail
	// Missing answers have no event; Duplicated have more than one.
	Missing    int
	Duplicated int
	// Unanswered events match no 200 answer: recorded, but the client never saw the data.
	Unanswered int
}

// Exact reports whether every answer has exactly one event and every event one answer.
func (m AuditMatch) Exact() bool { return m.Missing == 0 && m.Duplicated == 0 && m.Unanswered == 0 }

func (m AuditMatch) String() string {
	return fmt.Sprintf("%-16s %7d answers %7d events  missing %d, duplicated %d, without an answer %d",
		m.Action, m.Responses, m.Events, m.Missing, m.Duplicated, m.Unanswered)
}

// MatchAudit pairs the request ids of the 200 answers with the trail's events of action.
func MatchAudit(action audit.Action, okIDs []string, events map[string]int) AuditMatch {
	m := AuditMatch{Action: action, Responses: len(okIDs)}
	seen := make(map[string]bool, len(okIDs))
	for _, id := range okIDs {
		seen[id] = true
		switch n := events[id]; {
		case n == 0:
			m.Missing++
		case n > 1:
			m.Duplicated++
		}
	}
	for id, n := range events {
		m.Events += n
		if !seen[id] {
			m.Unanswered++
		}
	}
	return m
}

// OKRequestIDs returns, per audited action, the request ids of the 200 answers.
func OKRequestIDs(obs []Observation) map[audit.Action][]string {
	out := map[audit.Action][]string{}
	for _, o := range obs {
		action, ok := auditedAction(o.Kind)
		if !ok || o.Err != nil || o.Status != http.StatusOK {
			continue
		}
		out[action] = append(out[action], o.RequestID)
	}
	return out
}

var AuditedActions = []audit.Action{audit.ActionSearch, audit.ActionCustomerView, audit.ActionComparison}

// readAuditEvidence opens the stopped app's dashboard database the way `ctpdesk audit verify`
// does, counts the events of every audited action by request id and verifies the chain.
func readAuditEvidence(ctx context.Context, cfg config.Config) (map[audit.Action]map[string]int, audit.VerifyReport, error) {
	db, err := store.Open(ctx, cfg.DashboardDatabaseURL())
	if err != nil {
		return nil, audit.VerifyReport{}, fmt.Errorf("loadtest: open dashboard database: %w", err)
	}
	defer db.Close()
	key, err := cfg.Audit.AuditKey(cfg.Mode, cfg.DataDir, false)
	if err != nil {
		return nil, audit.VerifyReport{}, fmt.Errorf("loadtest: audit key: %w", err)
	}
	tr, err := audit.New(db, audit.Options{Key: key, CheckpointEvery: cfg.Audit.CheckpointEvery, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, audit.VerifyReport{}, fmt.Errorf("loadtest: open audit trail: %w", err)
	}
	defer tr.Close()
	events, err := AuditEventsByRequest(ctx, tr, AuditedActions...)
	if err != nil {
		return nil, audit.VerifyReport{}, err
	}
	rep, err := tr.Verify(ctx)
	if err != nil {
		return nil, audit.VerifyReport{}, fmt.Errorf("loadtest: verify audit chain: %w", err)
	}
	return events, rep, nil
}

// statusChecks are the checks every run must pass whatever the machine: no 5xx, no transport
// error, no refused request.
func statusChecks(obs []Observation) []check {
	var n5xx, n4xx, nErr int
	first := map[string]string{}
	note := func(key string, o Observation) {
		if first[key] == "" {
			first[key] = fmt.Sprintf(" (first: %s %d %v)", o.Kind, o.Status, o.Err)
		}
	}
	for _, o := range obs {
		switch {
		case o.Err != nil:
			nErr++
			note("err", o)
		case o.Status >= 500:
			n5xx++
			note("5xx", o)
		case o.Status >= 400:
			n4xx++
			note("4xx", o)
		}
	}
	return []check{
		{Name: "no 5xx answer", OK: n5xx == 0, Detail: fmt.Sprintf("%d of %d requests%s", n5xx, len(obs), first["5xx"])},
		{Name: "no transport error", OK: nErr == 0, Detail: fmt.Sprintf("%d of %d requests%s", nErr, len(obs), first["err"])},
		{Name: "no refused request (4xx)", OK: n4xx == 0, Detail: fmt.Sprintf("%d of %d requests%s", n4xx, len(obs), first["4xx"])},
	}
}

// followCheck states that every customer page a user received was followed by that customer's
// comparison, as the page's htmx trigger does in a browser.
func followCheck(obs []Observation) check {
	pages := 0
	for _, o := range obs {
		if o.User != probeUser && o.Kind == KindCustomer && o.Err == nil && o.Status == http.StatusOK {
			pages++
		}
	}
	bad := unfollowedPages(obs)
	detail := fmt.Sprintf("%d customer pages, %d not followed by their comparison", pages, len(bad))
	if len(bad) > 0 {
		detail += " (first: " + bad[0] + ")"
	}
	return check{Name: "every customer page followed by its comparison", OK: len(bad) == 0 && pages > 0, Detail: detail}
}

// budgetChecks hold the p99 of every search kind to the search budget and, when
// comparisonBudget is positive, the comparison's p99 to it.
func budgetChecks(rep drive.Report, comparisonBudget time.Duration) []check {
	var out []check
	for _, k := range rep.Kinds {
		if strings.HasPrefix(k.Kind, kindSearchPrefix) {
			out = append(out, check{Name: "p99 " + k.Kind + " within " + searchBudget.String(),
				OK: k.P99 <= searchBudget, Detail: "p99 " + ms(k.P99)})
		}
	}
	if comparisonBudget > 0 {
		if k, ok := rep.Kind(kindComparison); ok {
			out = append(out, check{Name: "p99 comparison within D1 latency + " + comparisonBudgetSlack.String(),
				OK: k.P99 <= comparisonBudget, Detail: "p99 " + ms(k.P99) + ", budget " + ms(comparisonBudget)})
		}
	}
	return out
}

// auditChecks states exactness per action and the chain's verdict.
func auditChecks(matches []AuditMatch, chain audit.VerifyReport) []check {
	var out []check
	for _, m := range matches {
		out = append(out, check{Name: "exactly one " + string(m.Action) + " event per 200 answer", OK: m.Exact() && m.Responses > 0,
			Detail: fmt.Sprintf("%d answers, %d events, %d missing, %d duplicated, %d without an answer",
				m.Responses, m.Events, m.Missing, m.Duplicated, m.Unanswered)})
	}
	out = append(out, check{Name: "audit chain verifies", OK: chain.OK(), Detail: chain.String()})
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
