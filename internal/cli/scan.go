package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
	"ctpdesk/internal/devstack"
	"ctpdesk/issuerdb"
	"ctpdesk/scan"
)

// runScan runs one portfolio drift scan in the foreground and prints a progress line every
// second. Without CTPDESK_D1_* it scans the development portfolio through the embedded
// sandbox, as `ctpdesk dev` would.
func runScan(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "scan", "Run one portfolio drift scan in the foreground with a progress line; Ctrl-C cancels it for a later --resume.")
	resume := fs.Int64("resume", 0, "continue the cancelled scan with this id")
	from := fs.String("from", "", "first customer id of the range to scan")
	to := fs.String("to", "", "last customer id of the range to scan")
	directory := fs.String("directory", "", "scan only customers with a card of this scheme (e.g. VISA)")
	since := fs.String("changed-since", "", "scan only customers whose record changed since this date (2026-01-31) or time (RFC 3339)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("scan: unexpected argument %q", fs.Arg(0))
	}
	f := issuerdb.WalkFilter{FromID: *from, ToID: *to, Directory: strings.ToUpper(*directory)}
	if *since != "" {
		t, err := parseSince(*since)
		if err != nil {
			return err
		}
		f.ChangedSince = t
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	cfg, err := config.Load(e.getenv, config.ModeDev)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(e.stderr, cfg.LogLevel)
	stack, err := devstack.StartData(ctx, cfg, e.stdout, log)
	if err != nil {
		return err
	}
	defer stack.Close()
	start := time.Now()
	var stages scan.Stages
	p, err := app.RunScan(ctx, stack.Config, app.ScanCommand{
		Filter: f, Resume: *resume, Log: log, Every: time.Second,
		Progress: func(p scan.Progress) { fmt.Fprintln(e.stdout, progressLine(p)) },
		Stages:   func(st scan.Stages) { stages = st },
	})
	if err != nil {
		return err
	}
	printSummary(e.stdout, p, time.Since(start))
	printStages(e.stdout, stages)
	return nil
}

// parseSince reads --changed-since.
func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("scan: --changed-since %q is neither a date (2026-01-31) nor an RFC 3339 time", s)
}

// progressLine is the one line `ctpdesk scan` prints each second.
func progressLine(p scan.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scan %d: %d", p.ID, p.Done)
	if p.Total > 0 {
		fmt.Fprintf(&b, "/%d customers (%d%%)", p.Total, p.Done*100/p.Total)
	} else {
		b.WriteString(" customers (planning)")
	}
	fmt.Fprintf(&b, ", %.1f D1 calls/s", p.CallsPerSecond)
	if p.Unavailable > 0 {
		fmt.Fprintf(&b, ", %d unavailable", p.Unavailable)
	}
	if !p.EstimatedEnd.IsZero() {
		fmt.Fprintf(&b, ", about %s left", time.Until(p.EstimatedEnd).Round(time.Second))
	}
	return b.String()
}

// printSummary prints what the scan found.
func printSummary(w io.Writer, p scan.Progress, took time.Duration) {
	rate := 0.0
	if s := took.Seconds(); s > 0 {
		rate = float64(p.Done) / s
	}
	fmt.Fprintf(w, "scan %d %s: %d customers in %s (%.0f a second), %d with differences, %d with risks, %d not registered, %d unavailable\n",
		p.ID, p.State, p.Done, took.Round(time.Millisecond), rate, p.WithDifferences, p.WithRisks, p.NotRegistered, p.Unavailable)
	for _, k := range scan.RiskKinds() {
		fmt.Fprintf(w, "  %-28s %d\n", k, p.Kinds[k])
	}
	for _, class := range p.ErrorClasses() {
		fmt.Fprintf(w, "  unavailable (%s) %d\n", class, p.Errors[class])
	}
}

// printStages prints where this process's scan workers spent their time: each stage's share of
// the workers' summed time and its time per customer.
func printStages(w io.Writer, st scan.Stages) {
	if st.Customers == 0 {
		return
	}
	fmt.Fprintf(w, "  time per stage, summed over this process's workers (%d customers):\n", st.Customers)
	for _, name := range scan.StageNames() {
		fmt.Fprintf(w, "  %-28s %5.1f%%  %s a customer\n", name, 100*st.Share(name), st.PerCustomer(name).Round(time.Microsecond))
	}
}
