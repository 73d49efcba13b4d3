package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

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
		Details: finishDetails(p),
	}
	if err := a.trail.Record(ctx, e); err != nil {
		a.opts.Log.Error("audit record failed", slog.String("action", string(e.Action)), slog.String("error", err.Error()))
	}
}

// ScanCommand is one foreground scan, as `ctpdesk scan` runs it.
type ScanCommand struct {
	Filter issuerdb.WalkFilter
	// Resume continues the scan with this id instead of starting a new one: a cancelled one is
	// resumed, a running one (whose process died) is worked and watched to its end.
	Resume int64
	// Progress is called about every Every while the scan runs, and once at its end.
	Progress func(scan.Progress)
	Every    time.Duration
	Log      *slog.Logger
	// Stages, when set, is called once as RunScan returns, with the time this process's
	// scan workers spent in each stage.
	Stages func(scan.Stages)
}

// RunScan runs one scan in the foreground on the configured databases and D1, working its jobs
// in this process (replicas running the dashboard on the same database share them), and
// returns its final progress. When ctx ends first the scan is cancelled, to be resumed later
// with ScanCommand.Resume.
func RunScan(ctx context.Context, cfg config.Config, cmd ScanCommand) (p scan.Progress, err error) {
	log := cmd.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cmd.Every <= 0 {
		cmd.Every = time.Second
	}
	db, err := store.Open(ctx, cfg.DashboardDatabaseURL())
	if err != nil {
		return p, fmt.Errorf("CTPDESK_DATABASE_URL: %w", err)
	}
	defer db.Close()
	key, err := cfg.Audit.AuditKey(cfg.Mode, cfg.DataDir, cfg.Mode == config.ModeDev)
	if err != nil {
		return p, fmt.Errorf("audit trail: %w", err)
	}
	trail, err := audit.New(db, audit.Options{Key: key, CheckpointEvery: cfg.Audit.CheckpointEvery, Logger: log})
	if err != nil {
		return p, fmt.Errorf("audit trail: %w", err)
	}
	defer trail.Close()
	issuer, err := issuerdb.Open(ctx, cfg.IssuerDatabaseURL(), issuerdb.Options{ReadOnly: true, PhoneRegion: cfg.Issuer.PhoneRegion})
	if err != nil {
		return p, fmt.Errorf("issuer database: %w", err)
	}
	defer issuer.Close()
	hc, err := d1.NewHTTPClient(cfg.D1.Client)
	if err != nil {
		return p, fmt.Errorf("D1 client: %w", err)
	}
	client, err := d1.New(cfg.D1.Client, hc, d1.WithLogger(log.With("component", "d1")))
	if err != nil {
		return p, fmt.Errorf("D1 client: %w", err)
	}
	record := func(ctx context.Context, action audit.Action, details map[string]string) {
		if err := trail.Record(ctx, audit.Event{Actor: scanActor, Action: action, Outcome: audit.Success, Details: details}); err != nil {
			log.Error("audit record failed", slog.String("action", string(action)), slog.String("error", err.Error()))
		}
	}
	cfg.Scan.Schedule = "" // the command runs its own scan, not the schedule
	s, err := newScanner(cfg, key, db, issuer, client, log, func(ctx context.Context, p scan.Progress) {
		record(ctx, audit.ActionScanFinish, finishDetails(p))
	})
	if err != nil {
		return p, err
	}
	if err := s.Start(context.WithoutCancel(ctx)); err != nil {
		return p, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		err = errors.Join(err, s.Stop(sctx))
		if cmd.Stages != nil {
			cmd.Stages(s.Stages())
		}
	}()
	var run scan.Run
	if cmd.Resume > 0 {
		if run, err = s.Run(ctx, cmd.Resume); err != nil {
			return p, err
		}
		// A scan still running (its process died) needs no resuming: this process works its
		// jobs once River hands the dead one's back.
		if run.State != scan.StateRunning {
			if run, err = s.Resume(ctx, cmd.Resume); err != nil {
				return p, err
			}
			record(ctx, audit.ActionScanResume, map[string]string{"scan": strconv.FormatInt(run.ID, 10)})
		}
	} else {
		if run, err = s.StartScan(ctx, scan.StartRequest{Trigger: scan.TriggerCommand, By: scanActor.Subject, ByName: "ctpdesk scan", Filter: cmd.Filter}); err != nil {
			return p, err
		}
		record(ctx, audit.ActionScanStart, map[string]string{"scan": strconv.FormatInt(run.ID, 10)})
	}
	tick := time.NewTicker(cmd.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			bg := context.WithoutCancel(ctx)
			if _, err := s.Cancel(bg, run.ID, scanActor.Subject); err == nil {
				record(bg, audit.ActionScanCancel, map[string]string{"scan": strconv.FormatInt(run.ID, 10)})
			}
			p, _ = s.Progress(bg, run.ID)
			return p, fmt.Errorf("scan %d cancelled: resume it with --resume %d", run.ID, run.ID)
		case <-tick.C:
		}
		if p, err = s.Progress(ctx, run.ID); err != nil {
			return p, err
		}
		if cmd.Progress != nil {
			cmd.Progress(p)
		}
		if p.State != scan.StateRunning {
			return p, nil
		}
	}
}

// finishDetails are the audit details of a finished scan: counts only.
func finishDetails(p scan.Progress) map[string]string {
	return map[string]string{
		"scan":             strconv.FormatInt(p.ID, 10),
		"customers":        strconv.Itoa(p.Done),
		"with_differences": strconv.Itoa(p.WithDifferences),
		"with_risks":       strconv.Itoa(p.WithRisks),
		"unavailable":      strconv.Itoa(p.Unavailable),
		"d1_calls":         strconv.Itoa(p.D1Calls),
	}
}
