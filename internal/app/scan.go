package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"ctpdesk/audit"
	"ctpdesk/d1"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
	"ctpdesk/scan"
	"ctpdesk/store"
)

// scanActor is who the audit trail names for what the scan does by itself.
var scanActor = audit.Actor{Issuer: "ctpdesk", Subject: "system:scan", Name: "Portfolio scan"}

// newScanner builds the portfolio scan from the configuration. Its fingerprint key is
// CTPDESK_SCAN_FINGERPRINT_KEY or, when unset, derived from the audit key.
func newScanner(cfg config.Config, auditKey []byte, db *store.DB, issuer *issuerdb.DB, client *d1.Client, log *slog.Logger, onFinish func(context.Context, scan.Progress)) (*scan.Scanner, error) {
	key := cfg.Scan.FingerprintKeyBytes()
	if key == nil {
		key = scan.DeriveFingerprintKey(auditKey)
	}
	o := scan.Options{
		DB: db, Portfolio: issuer, D1: client, Key: key,
		Rate: cfg.Scan.Rate, Workers: cfg.Scan.Workers, ChunkSize: cfg.Scan.ChunkSize, JobTimeout: cfg.Scan.JobTimeout,
		Logger: log.With("component", "scan"), OnFinish: onFinish, Work: true,
	}
	if cfg.Scan.Schedule != "" {
		sched, err := config.ParseSchedule(cfg.Scan.Schedule)
		if err != nil {
			return nil, fmt.Errorf("CTPDESK_SCAN_SCHEDULE: %w", err)
		}
		o.Schedule = sched
	}
	s, err := scan.New(o)
	if err != nil {
		return nil, fmt.Errorf("portfolio scan: %w", err)
	}
	return s, nil
}

// recordScanFinish writes the finished scan's summary to the audit trail: counts only.
func (a *App) recordScanFinish(ctx context.Context, p scan.Progress) {
	e := audit.Event{
		Actor: scanActor, Action: audit.ActionScanFinish, Outcome: audit.Success,
		Details: map[string]string{
			"scan":             strconv.FormatInt(p.ID, 10),
			"customers":        strconv.Itoa(p.Done),
			"with_differences": strconv.Itoa(p.WithDifferences),
			"with_risks":       strconv.Itoa(p.WithRisks),
			"unavailable":      strconv.Itoa(p.Unavailable),
			"d1_calls":         strconv.Itoa(p.D1Calls),
		},
	}
	if err := a.trail.Record(ctx, e); err != nil {
		a.opts.Log.Error("audit record failed", slog.String("action", string(e.Action)), slog.String("error", err.Error()))
	}
}
