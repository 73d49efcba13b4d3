package scan

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"ctpdesk/store"
)

// customerResult is one customer's outcome, ready to store.
type customerResult struct {
	CustomerID string
	Outcome    Outcome
	Digest     string
	At         time.Time
}

// Count keys of a chunk's (and a scan's) counts.
const (
	countChecked       = "checked"
	countCompared      = "compared"
	countDifferences   = "withDifferences"
	countRisks         = "withRisks"
	countUnavailable   = "unavailable"
	countNotRegistered = "notRegistered"
	countKindPrefix    = "kind:"
	countErrorPrefix   = "error:"
)

// writeBatch stores the outcomes of some customers of one chunk in one transaction: the
// per-customer rows (an upsert keyed by scan and customer, so a chunk worked again after a
// crash overwrites rather than adds), the customers' latest-scan rows and worklist items, and
// the chunk's counts recomputed from its stored rows. Because the counts are recomputed, not
// incremented, each customer is counted exactly once however often the chunk ran. final marks
// the chunk done.
func (s *Scanner) writeBatch(ctx context.Context, run Run, chunk int, batch []customerResult, d1Calls int, final bool) error {
	if s.db.Dialect == store.SQLite {
		// SQLite has one writer at a time. This process's workers queue for it here, in turn,
		// rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms.
		s.sqliteWrite.Lock()
		defer s.sqliteWrite.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("scan: store results: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	previous, err := s.latestDigests(ctx, tx, batch)
	if err != nil {
		return err
	}
	st := &batchStatements{db: s.db, tx: tx}
	defer st.close()
	for _, r := range batch {
		o := r.Outcome
		if err := st.exec(ctx, stmtResult, run.ID, r.CustomerID, chunk, r.At.UnixMilli(), o.State, o.ErrorClass,
			encodeDirectories(o.Directories), o.Counts.Differences, o.Counts.Equivalents, o.Counts.Risks, o.Counts.Warnings,
			strings.Join(findingKinds(o), ","), encodeFingerprints(o.Fingerprints), r.Digest); err != nil {
			return fmt.Errorf("scan: store result: %w", err)
		}
		if o.State == OutcomeUnavailable {
			// Nothing was learnt: the customer's last scan and worklist item stay as they were.
			continue
		}
		prev, changed := previous[r.CustomerID].since(run.ID, r.Digest)
		if err := st.exec(ctx, stmtLatest, r.CustomerID, run.ID, r.At.UnixMilli(), r.Outcome.State, r.Digest, prev.previousScanID, prev.previousDigest); err != nil {
			return fmt.Errorf("scan: store latest scan: %w", err)
		}
		if err := s.upsertItem(ctx, st, run, r, changed); err != nil {
			return err
		}
	}
	counts, stored, err := s.chunkCounts(ctx, tx, run.ID, chunk)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(counts) // a map of ints always marshals
	q := `UPDATE scan_chunks SET stored = ?, counts = ?, d1_calls = d1_calls + ?, updated_at = ?`
	args := []any{stored, string(b), d1Calls, s.now().UnixMilli()}
	if final {
		// Customers removed from the issuer's records since planning are no longer counted.
		q += ", done = 1, customers = ?"
		args = append(args, stored)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(q+" WHERE scan_id = ? AND chunk = ?"), append(args, run.ID, chunk)...); err != nil {
		return fmt.Errorf("scan: store chunk counts: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("scan: store results: %w", err)
	}
	return nil
}

// The statements a batch runs once per customer.
const (
	stmtResult = iota
	stmtLatest
	stmtItemClear
	stmtItemUpsert
	stmtCount
)

// reopen is when a scan reopens a worklist item: it was resolved before the scan started.
const reopen = "worklist_items.state = 'resolved' AND worklist_items.decided_at < ?"

// batchSQL are those statements' texts, in the dashboard's ? placeholders.
var batchSQL = [stmtCount]string{
	stmtResult: `INSERT INTO scan_results (scan_id, customer_id, chunk, scanned_at, outcome, error_class,
		directories, differences, equivalents, risks, warnings, kinds, fingerprints, digest)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scan_id, customer_id) DO UPDATE SET scanned_at = excluded.scanned_at, outcome = excluded.outcome,
		error_class = excluded.error_class, directories = excluded.directories, differences = excluded.differences,
		equivalents = excluded.equivalents, risks = excluded.risks, warnings = excluded.warnings, kinds = excluded.kinds,
		fingerprints = excluded.fingerprints, digest = excluded.digest`,
	stmtLatest: `INSERT INTO scan_customers (customer_id, scan_id, scanned_at, outcome, digest, previous_scan_id, previous_digest)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET scan_id = excluded.scan_id, scanned_at = excluded.scanned_at,
		outcome = excluded.outcome, digest = excluded.digest, previous_scan_id = excluded.previous_scan_id, previous_digest = excluded.previous_digest`,
	stmtItemClear: `UPDATE worklist_items SET findings = 0, dq_findings = 0, kinds = '', dq_kinds = '',
		directories = '', last_scan_id = ?, last_scanned_at = ?, changed = ?, updated_at = ? WHERE customer_id = ?`,
	stmtItemUpsert: `INSERT INTO worklist_items (customer_id, state, severity, findings, dq_findings, kinds, dq_kinds,
		directories, first_scan_id, last_scan_id, last_scanned_at, changed, updated_at)
		VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET severity = excluded.severity, findings = excluded.findings,
		dq_findings = excluded.dq_findings, kinds = excluded.kinds, dq_kinds = excluded.dq_kinds, directories = excluded.directories,
		last_scan_id = excluded.last_scan_id, last_scanned_at = excluded.last_scanned_at, changed = excluded.changed,
		updated_at = excluded.updated_at,
		reopened_at = CASE WHEN ` + reopen + ` THEN excluded.updated_at ELSE worklist_items.reopened_at END,
		reason = CASE WHEN ` + reopen + ` THEN 'found-again' ELSE worklist_items.reason END,
		state = CASE WHEN ` + reopen + ` THEN 'open' ELSE worklist_items.state END`,
}

// batchStatements prepares each per-customer statement once per transaction, on first use,
// so a batch of a few hundred customers parses four statements instead of a thousand.
type batchStatements struct {
	db    *store.DB
	tx    *sql.Tx
	stmts [stmtCount]*sql.Stmt
}

func (b *batchStatements) exec(ctx context.Context, which int, args ...any) error {
	st := b.stmts[which]
	if st == nil {
		var err error
		if st, err = b.tx.PrepareContext(ctx, b.db.Rebind(batchSQL[which])); err != nil {
			return err
		}
		b.stmts[which] = st
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

func (b *batchStatements) close() {
	for _, st := range b.stmts {
		if st != nil {
			st.Close()
		}
	}
}

// latest is a customer's scan_customers row as it was before this batch.
type latest struct {
	found          bool
	scanID         int64
	digest         string
	previousScanID sql.NullInt64
	previousDigest sql.NullString
}

// since returns what the "previous scan" of the customer is once this scan's result is stored
// (the same as before when this scan had already stored one), and whether the digest changed
// against it. A first scan is no change.
func (l latest) since(scanID int64, digest string) (latest, bool) {
	switch {
	case !l.found:
		return latest{}, false
	case l.scanID == scanID:
		return l, l.previousDigest.Valid && l.previousDigest.String != digest
	}
	prev := latest{found: true, previousScanID: sql.NullInt64{Int64: l.scanID, Valid: true}, previousDigest: sql.NullString{String: l.digest, Valid: true}}
	return prev, l.digest != digest
}

// latestDigests reads the batch's customers' latest-scan rows.
func (s *Scanner) latestDigests(ctx context.Context, tx *sql.Tx, batch []customerResult) (map[string]latest, error) {
	out := map[string]latest{}
	if len(batch) == 0 {
		return out, nil
	}
	args := make([]any, len(batch))
	for i, r := range batch {
		args[i] = r.CustomerID
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ")
	rows, err := tx.QueryContext(ctx, s.db.Rebind("SELECT customer_id, scan_id, digest, previous_scan_id, previous_digest FROM scan_customers WHERE customer_id IN ("+marks+")"), args...)
	if err != nil {
		return nil, fmt.Errorf("scan: read latest scans: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		l := latest{found: true}
		if err := rows.Scan(&id, &l.scanID, &l.digest, &l.previousScanID, &l.previousDigest); err != nil {
			return nil, fmt.Errorf("scan: read latest scans: %w", err)
		}
		out[id] = l
	}
	return out, rows.Err()
}

// itemSummary is what a worklist item keeps of a customer's findings.
type itemSummary struct {
	severity    int
	findings    int
	dqFindings  int
	kinds       string
	dqKinds     string
	directories string
}

func summarise(fs []Finding) itemSummary {
	sum := itemSummary{severity: severityWarn}
	var kinds, dq, dirs []string
	for _, f := range fs {
		sum.findings++
		kinds = append(kinds, f.Kind)
		if f.Risk {
			sum.severity = severityRisk
		} else {
			sum.dqFindings++
			dq = append(dq, f.Kind)
		}
		if f.Directory != "" {
			dirs = append(dirs, f.Directory)
		}
	}
	sum.kinds, sum.dqKinds, sum.directories = frame(kinds), frame(dq), frame(dirs)
	return sum
}

// frame writes a set as ",a,b," (sorted, distinct), so "contains b" is LIKE '%,b,%'.
func frame(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	slices.Sort(vs)
	return "," + strings.Join(slices.Compact(vs), ",") + ","
}

// upsertItem keeps the customer's worklist item in step with this scan: created open for new
// findings; findings, severity and "changed" refreshed; and a resolved item reopened when this
// scan, started after the resolution, finds something again. Other decisions stand: the
// people working them see "changed since the last scan" instead.
func (s *Scanner) upsertItem(ctx context.Context, st *batchStatements, run Run, r customerResult, changed bool) error {
	sum := summarise(r.Outcome.Findings)
	now := s.now().UnixMilli()
	ch := 0
	if changed {
		ch = 1
	}
	if sum.findings == 0 {
		if err := st.exec(ctx, stmtItemClear, run.ID, r.At.UnixMilli(), ch, now, r.CustomerID); err != nil {
			return fmt.Errorf("scan: update worklist item: %w", err)
		}
		return nil
	}
	started := run.CreatedAt.UnixMilli()
	if err := st.exec(ctx, stmtItemUpsert, r.CustomerID, sum.severity, sum.findings, sum.dqFindings, sum.kinds, sum.dqKinds, sum.directories,
		run.ID, run.ID, r.At.UnixMilli(), ch, now, started, started, started); err != nil {
		return fmt.Errorf("scan: upsert worklist item: %w", err)
	}
	return nil
}

// chunkCounts counts a chunk's stored rows.
func (s *Scanner) chunkCounts(ctx context.Context, tx *sql.Tx, scanID int64, chunk int) (map[string]int, int, error) {
	rows, err := tx.QueryContext(ctx, s.db.Rebind("SELECT outcome, error_class, differences, risks, kinds FROM scan_results WHERE scan_id = ? AND chunk = ?"), scanID, chunk)
	if err != nil {
		return nil, 0, fmt.Errorf("scan: count chunk: %w", err)
	}
	defer rows.Close()
	counts := map[string]int{}
	stored := 0
	for rows.Next() {
		var outcome, class, kinds string
		var diffs, risks int
		if err := rows.Scan(&outcome, &class, &diffs, &risks, &kinds); err != nil {
			return nil, 0, fmt.Errorf("scan: count chunk: %w", err)
		}
		stored++
		counts[countChecked]++
		switch outcome {
		case OutcomeCompared:
			counts[countCompared]++
		case OutcomeNotRegistered:
			counts[countNotRegistered]++
		case OutcomeUnavailable:
			counts[countUnavailable]++
			counts[countErrorPrefix+class]++
		}
		if diffs > 0 {
			counts[countDifferences]++
		}
		if risks > 0 {
			counts[countRisks]++
		}
		if kinds != "" {
			for _, k := range strings.Split(kinds, ",") {
				counts[countKindPrefix+k]++
			}
		}
	}
	return counts, stored, rows.Err()
}

// encodeDirectories writes directory states as "VISA:profile MASTERCARD:not-enrolled".
func encodeDirectories(ds []DirectoryState) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Directory + ":" + d.State
	}
	return strings.Join(parts, " ")
}
