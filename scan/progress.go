package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Progress is a scan with how far it got and what it found so far.
type Progress struct {
	Run
	// Done counts customers stored (each once); Total is the customers planned (0 while
	// planning has not finished).
	Done, Total int
	// D1Calls counts the D1 calls made; CallsPerSecond is their rate since the scan started
	// (until it finished).
	D1Calls        int
	CallsPerSecond float64
	// EstimatedEnd is when the scan will finish at its rate so far; zero when unknown.
	EstimatedEnd time.Time
	// Summary counts.
	Compared, WithDifferences, WithRisks, Unavailable, NotRegistered int
	// Kinds counts customers per finding kind; Errors counts unavailable customers per D1
	// error class.
	Kinds  map[string]int
	Errors map[string]int
}

// ErrorClasses lists the error classes in a stable order.
func (p Progress) ErrorClasses() []string { return slices.Sorted(maps.Keys(p.Errors)) }

// Progress returns one scan's progress.
func (s *Scanner) Progress(ctx context.Context, id int64) (Progress, error) {
	run, err := s.Run(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	return s.progressOf(ctx, run)
}

// Runs lists the latest scans with their progress, newest first.
func (s *Scanner) Runs(ctx context.Context, limit int) ([]Progress, error) {
	runs, err := s.runs(ctx, min(max(limit, 1), 100))
	if err != nil {
		return nil, err
	}
	out := make([]Progress, 0, len(runs))
	for _, r := range runs {
		p, err := s.progressOf(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// progressOf sums a scan's chunk counts: a few thousand rows for a million customers.
func (s *Scanner) progressOf(ctx context.Context, run Run) (Progress, error) {
	p := Progress{Run: run, Kinds: map[string]int{}, Errors: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT customers, stored, counts, d1_calls FROM scan_chunks WHERE scan_id = ?"), run.ID)
	if err != nil {
		return Progress{}, fmt.Errorf("scan: progress: %w", err)
	}
	defer rows.Close()
	planned := 0
	for rows.Next() {
		var customers, stored, calls int
		var raw string
		if err := rows.Scan(&customers, &stored, &raw, &calls); err != nil {
			return Progress{}, fmt.Errorf("scan: progress: %w", err)
		}
		var counts map[string]int
		if err := json.Unmarshal([]byte(raw), &counts); err != nil {
			return Progress{}, fmt.Errorf("scan: progress: chunk counts: %w", err)
		}
		planned += customers
		p.Done += stored
		p.D1Calls += calls
		p.Compared += counts[countCompared]
		p.WithDifferences += counts[countDifferences]
		p.WithRisks += counts[countRisks]
		p.Unavailable += counts[countUnavailable]
		p.NotRegistered += counts[countNotRegistered]
		for k, n := range counts {
			if kind, ok := strings.CutPrefix(k, countKindPrefix); ok {
				p.Kinds[kind] += n
			} else if class, ok := strings.CutPrefix(k, countErrorPrefix); ok {
				p.Errors[class] += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return Progress{}, fmt.Errorf("scan: progress: %w", err)
	}
	if run.Planned {
		p.Total = run.Customers
		if run.State == StateRunning {
			p.Total = planned
		}
	}
	end := s.now()
	if !run.FinishedAt.IsZero() {
		end = run.FinishedAt
	} else if !run.CancelledAt.IsZero() {
		end = run.CancelledAt
	}
	if secs := end.Sub(run.CreatedAt).Seconds(); secs > 0 {
		p.CallsPerSecond = float64(p.D1Calls) / secs
		if run.State == StateRunning && p.Total > 0 && p.Done > 0 && p.Done < p.Total {
			perCustomer := secs / float64(p.Done)
			p.EstimatedEnd = end.Add(time.Duration(perCustomer * float64(p.Total-p.Done) * float64(time.Second)))
		}
	}
	return p, nil
}
