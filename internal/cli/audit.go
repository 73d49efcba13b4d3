package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/config"
	"ctpdesk/store"
)

// errChainBroken is returned by `ctpdesk audit verify` when the chain does not verify, so the
// process exits with status 1 after printing where.
var errChainBroken = errors.New("audit chain does not verify")

// runAudit is `ctpdesk audit verify|purge`: offline checks and maintenance of the audit trail
// in the dashboard's database (CTPDESK_DATABASE_URL, or dev's SQLite file in
// CTPDESK_DATA_DIR), with the key from CTPDESK_AUDIT_HMAC_KEY or dev's key file, against the
// witness (CTPDESK_AUDIT_WITNESS, or dev's witness file).
func runAudit(ctx context.Context, e *env, args []string) error {
	usage := func() {
		fmt.Fprint(e.stdout, "Usage: ctpdesk audit COMMAND [flags]\n\nCommands:\n"+
			"  verify   walk the hash chain and report the first broken link, or how many events verified\n"+
			"  purge    delete the events older than CTPDESK_AUDIT_RETENTION, keeping the rest verifiable\n")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return errors.New("audit: no command given")
		}
		return nil
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, e, args[1:])
	case "purge":
		return runAuditPurge(ctx, e, args[1:])
	}
	usage()
	return fmt.Errorf("audit: unknown command %q", args[0])
}

func runAuditVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "audit verify", "Walk the audit trail's hash chain and its sealed checkpoints and compare them with the witness; exit status 1 at the first broken link.")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	witness := fs.String("witness", "", "the witness `file` to verify against, e.g. a copy from separate storage (default: CTPDESK_AUDIT_WITNESS, in dev the data dir's audit-witness.jsonl)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tr, cfg, closeTrail, err := openAuditOffline(ctx, e, false)
	if err != nil {
		return err
	}
	defer closeTrail()
	path := *witness
	if path == "" {
		path = cfg.AuditWitnessFile()
	}
	wl, err := audit.ReadWitnessFile(path)
	if err != nil {
		return err
	}
	rep, err := tr.VerifyWitnessed(ctx, wl)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeReportJSON(e, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, rep.String())
		for _, n := range rep.Witness.Notes {
			fmt.Fprintf(e.stdout, "witness %s: %s\n", rep.Witness.Source, n)
		}
	}
	if !rep.OK() {
		return fmt.Errorf("%w: first break at seq %d", errChainBroken, rep.Break.Seq)
	}
	return nil
}

// reportJSON is `ctpdesk audit verify -json`.
type reportJSON struct {
	OK            bool         `json:"ok"`
	Events        int64        `json:"events"`
	FirstSeq      int64        `json:"first_seq"`
	LastSeq       int64        `json:"last_seq"`
	Checkpoints   int          `json:"checkpoints"`
	PurgedThrough int64        `json:"purged_through"`
	BreakSeq      int64        `json:"break_seq,omitempty"`
	BreakTo       int64        `json:"break_to,omitempty"`
	Problem       string       `json:"problem,omitempty"`
	Witness       *witnessJSON `json:"witness,omitempty"`
	Summary       string       `json:"summary"`
}

type witnessJSON struct {
	Source  string   `json:"source"`
	Seals   int      `json:"seals"`
	LastSeq int64    `json:"last_seq"`
	Notes   []string `json:"notes,omitempty"`
}

func writeReportJSON(e *env, rep audit.VerifyReport) error {
	out := reportJSON{OK: rep.OK(), Events: rep.Events, FirstSeq: rep.FirstSeq, LastSeq: rep.LastSeq,
		Checkpoints: rep.Checkpoints, PurgedThrough: rep.PurgedThrough, Summary: rep.String()}
	if rep.Break != nil {
		out.BreakSeq, out.BreakTo, out.Problem = rep.Break.Seq, rep.Break.To, rep.Break.Problem
	}
	if w := rep.Witness; w != nil {
		out.Witness = &witnessJSON{Source: w.Source, Seals: w.Seals, LastSeq: w.LastSeq, Notes: w.Notes}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func runAuditPurge(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "audit purge", "Delete the audit events older than CTPDESK_AUDIT_RETENTION; a sealed checkpoint marks the new start of the chain.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tr, cfg, closeTrail, err := openAuditOffline(ctx, e, true)
	if err != nil {
		return err
	}
	defer closeTrail()
	before := time.Now().Add(-cfg.Audit.Retention)
	rep, err := tr.Purge(ctx, before)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "purged %d events older than %s (through seq %d)\n",
		rep.Deleted, before.UTC().Format(time.RFC3339), rep.PurgedThrough)
	return nil
}

// openAuditOffline opens the trail for the offline commands. It never creates a key: a
// verification under a new key would only report every seal as foreign. With witnessed set,
// the trail writes its seals to the configured witness (a purge seals a checkpoint).
func openAuditOffline(ctx context.Context, e *env, witnessed bool) (*audit.Trail, config.Config, func(), error) {
	cfg, err := config.Load(e.getenv, config.ModeDev)
	if err != nil {
		return nil, config.Config{}, nil, fmt.Errorf("configuration:\n%w", err)
	}
	key, err := cfg.Audit.AuditKey(config.ModeDev, cfg.DataDir, false)
	if err != nil {
		return nil, config.Config{}, nil, err
	}
	opts := audit.Options{Key: key, CheckpointEvery: cfg.Audit.CheckpointEvery, Logger: newLogger(e.stderr, cfg.LogLevel)}
	var fw *audit.FileWitness
	if witnessed {
		if fw, err = audit.OpenFileWitness(cfg.AuditWitnessFile()); err != nil {
			return nil, config.Config{}, nil, fmt.Errorf("CTPDESK_AUDIT_WITNESS: %w", err)
		}
		opts.Witness = fw
	}
	closeWitness := func() {
		if fw != nil {
			fw.Close()
		}
	}
	db, err := store.Open(ctx, cfg.DashboardDatabaseURL())
	if err != nil {
		closeWitness()
		return nil, config.Config{}, nil, err
	}
	tr, err := audit.New(db, opts)
	if err != nil {
		db.Close()
		closeWitness()
		return nil, config.Config{}, nil, err
	}
	return tr, cfg, func() { tr.Close(); db.Close(); closeWitness() }, nil
}
