package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/loadtest/drive"
	"ctpdesk/internal/runinfo"
)

// loadOptions bound and shape one load run.
type loadOptions struct {
	Users       int
	Duration    time.Duration // the steady run's length; a fault run's comes from Timings
	MaxRequests int64         // 0: bounded by time only
	D1Latency   time.Duration // the sandbox's answer time
	Think       time.Duration // mean pause of a user between actions; 0: closed loop
	Customers   int
	// Fault runs the fault sequence with these timings instead of a steady load.
	Fault   bool
	Timings faultTimings
	// Budgets adds the p99 budget checks. Short runs under the race detector leave them out:
	// there the latencies measure the detector, not the dashboard.
	Budgets bool
	DataDir string            // the app's files; the caller removes it
	Log     io.Writer         // the app's log lines
	Env     map[string]string // extra CTPDESK_* settings over the harness's
}

// loadResult is everything a run measured and concluded.
type loadResult struct {
	Report  drive.Report
	Phases  []phaseReport // fault runs only
	Breaker []breakerChange
	Audit   []AuditMatch
	Chain   audit.VerifyReport
	Checks  []check
	Obs     []Observation
}

// Failed returns the checks that did not pass.
func (r *loadResult) Failed() []check {
	var out []check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Command is the load-test program (tools/loadtest, `make loadtest`): the whole dashboard in
// this process under a bounded load from signed-in virtual users, on loopback only, then the
// checks. It returns an error when a check fails.
func Command(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, "Usage: loadtest [flags]\n\nRun the whole dev dashboard in-process under a bounded load on loopback and check its budgets and audit trail.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	users := fs.Int("users", 200, "concurrent signed-in virtual users (1-2000)")
	duration := fs.Duration("duration", 2*time.Minute, "length of the steady run (1s-1h); --fault runs its own sequence")
	maxRequests := fs.Int64("max-requests", 0, "stop after this many requests (0: bounded by time only)")
	d1Latency := fs.Duration("d1-latency", 0, "how long the D1 sandbox takes to answer (0-10s)")
	customers := fs.Int("customers", 20000, "synthetic customers seeded into the issuer database (100-1000000)")
	think := fs.Duration("think", time.Second, "mean pause of a user between actions (0-1m); 0 sends the next request at once, which measures capacity, not users")
	fault := fs.Bool("fault", false, "run the fault sequence: 20% 503s, D1 down (at least 30s, until the breaker opened), then 2s answers")
	keep := fs.Bool("keep", false, "keep the temporary data directory (databases, app log) afterwards")
	report := fs.String("report", "", "also write the report to this markdown file, with the date, machine, commit and flags")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var bad []string
	switch {
	case fs.NArg() > 0:
		bad = append(bad, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case *users < 1 || *users > 2000:
		bad = append(bad, fmt.Sprintf("--users %d is out of range [1, 2000]", *users))
	case *duration < time.Second || *duration > time.Hour:
		bad = append(bad, fmt.Sprintf("--duration %s is out of range [1s, 1h]", *duration))
	case *maxRequests < 0:
		bad = append(bad, "--max-requests must not be negative")
	case *maxRequests > 0 && *fault:
		bad = append(bad, "--max-requests cannot bound --fault: each fault phase lasts until its events happened")
	case *d1Latency < 0 || *d1Latency > 10*time.Second:
		bad = append(bad, fmt.Sprintf("--d1-latency %s is out of range [0, 10s]", *d1Latency))
	case *think < 0 || *think > time.Minute:
		bad = append(bad, fmt.Sprintf("--think %s is out of range [0, 1m]", *think))
	case *customers < 100 || *customers > 1_000_000:
		bad = append(bad, fmt.Sprintf("--customers %d is out of range [100, 1000000]", *customers))
	}
	if *report != "" {
		if st, err := os.Stat(filepath.Dir(*report)); err != nil || !st.IsDir() {
			bad = append(bad, fmt.Sprintf("--report %s: its directory does not exist", *report))
		}
	}
	if len(bad) > 0 {
		return errors.New("loadtest: " + strings.Join(bad, "; "))
	}
	dir, err := os.MkdirTemp("", "ctpdesk-loadtest-")
	if err != nil {
		return fmt.Errorf("loadtest: data directory: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "app.log"))
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("loadtest: app log: %w", err)
	}
	o := loadOptions{
		Users: *users, Duration: *duration, MaxRequests: *maxRequests, D1Latency: *d1Latency, Think: *think,
		Customers: *customers, Fault: *fault, Timings: fullFaultTimings, Budgets: true,
		DataDir: dir, Log: logFile,
	}
	what := fmt.Sprintf("%d users for %s", o.Users, o.Duration)
	if o.Fault {
		what = fmt.Sprintf("%d users through the fault sequence", o.Users)
	}
	fmt.Fprintf(stdout, "loadtest: %s, think time %s, D1 latency %s, %d customers, data in %s\n", what, o.Think, o.D1Latency, o.Customers, dir)
	loadBefore := runinfo.LoadAverage()
	res, err := runLoad(ctx, o)
	logFile.Close()
	if err == nil {
		var out strings.Builder
		printLoadResult(&out, res)
		fmt.Fprint(stdout, out.String())
		if *report != "" {
			md := reportMarkdown(time.Now(), runinfo.Describe(), args, [2]string{loadBefore, runinfo.LoadAverage()}, out.String())
			if werr := os.WriteFile(*report, []byte(md), 0o644); werr != nil {
				err = fmt.Errorf("loadtest: write the report: %w", werr)
			} else {
				fmt.Fprintf(stdout, "\nreport written to %s\n", *report)
			}
		}
	}
	failed := err != nil || len(res.Failed()) > 0
	if *keep || failed {
		fmt.Fprintf(stdout, "data directory and app log kept in %s\n", dir)
	} else {
		os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	if f := res.Failed(); len(f) > 0 {
		return fmt.Errorf("loadtest: %d of %d checks failed", len(f), len(res.Checks))
	}
	return nil
}

// reportMarkdown is the recorded form of a run's report: when, on what machine and commit,
// with which flags and how busy the machine was, then the report as printed. It records failing runs too: a figure is
// only quoted from a report whose checks all pass.
func reportMarkdown(at time.Time, machine string, args []string, load [2]string, report string) string {
	flags := "(defaults)"
	if len(args) > 0 {
		flags = "`" + strings.Join(args, " ") + "`"
	}
	return fmt.Sprintf("# ctpdesk load test\n\nMeasured by `make loadtest` (tools/loadtest) on %s, %s.\n"+
		"Flags: %s. Machine load average (1 min): %s at the start, %s at the end.\n\n```\n%s```\n",
		at.UTC().Format("2006-01-02 15:04 MST"), machine, flags, load[0], load[1], strings.TrimLeft(report, "\n"))
}

// runLoad starts the harness, signs the users in, drives the load (through the fault sequence
// when asked), stops the app and checks what it did.
func runLoad(ctx context.Context, o loadOptions) (*loadResult, error) {
	h, err := startLoadHarness(ctx, o)
	if err != nil {
		return nil, err
	}
	defer h.close()
	defer h.stop()
	users, err := h.signIn(ctx, o.Users)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{MaxIdleConns: 2 * o.Users, MaxIdleConnsPerHost: 2 * o.Users, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	run := NewRun(h.url, users, o.Customers, o.Fault, o.Think)
	opts := drive.Options{Users: o.Users, Duration: o.Duration, MaxRequests: o.MaxRequests,
		Clients: func(int) *http.Client { return client }, Mix: run.Mix}
	res := &loadResult{}
	names := []string{"steady"}
	var base, after resourceLevel
	var settleErr error
	start := time.Now()
	var elapsed time.Duration
	if o.Fault {
		names = []string{"warm-up"}
		probe := newFaultProbe(h, run, client)
		phases := faultPhases(o.Timings, o.D1Latency, probe)
		// A phase waits for its event at most this long past its length; the outage's
		// includes the cache TTL its stale probe has to outlive.
		wait := o.Timings.Event + probe.ttl
		warm := opts
		warm.Duration, warm.MaxRequests = o.Timings.Warmup, 0
		drive.Run(ctx, warm)
		if base, err = h.settle(ctx, transport, nil, 5*time.Second); err != nil {
			return nil, err
		}
		// The sequence ends the load; the duration is only a ceiling above its own bounds.
		opts.Duration, opts.MaxRequests = time.Minute, 0
		for _, p := range phases {
			names = append(names, p.Name)
			opts.Duration += p.Length + wait
		}
		wctx, stopWatch := context.WithCancel(ctx)
		breaker := watchBreaker(wctx, h, run)
		lctx, endLoad := context.WithCancel(ctx)
		seqErr := make(chan error, 1)
		go func() {
			seqErr <- runFaultSequence(wctx, h, run, phases, wait)
			endLoad()
		}()
		drive.Run(lctx, opts)
		elapsed = time.Since(start)
		stopWatch()
		endLoad()
		if err := <-seqErr; err != nil {
			return nil, err
		}
		res.Breaker = breaker()
		after, settleErr = h.settle(ctx, transport, &base, o.Timings.Settle)
	} else {
		drive.Run(ctx, opts)
		elapsed = time.Since(start)
	}
	if err := h.stop(); err != nil {
		return nil, fmt.Errorf("loadtest: the dashboard did not stop cleanly: %w", err)
	}
	res.Obs = run.Observations()
	samples := make([]drive.Sample, len(res.Obs))
	for i, ob := range res.Obs {
		samples[i] = ob.Sample
	}
	res.Report = drive.Summarise(samples, elapsed)

	events, chain, err := readAuditEvidence(ctx, h.app.Config())
	if err != nil {
		return nil, err
	}
	ok := OKRequestIDs(res.Obs)
	for _, action := range AuditedActions {
		res.Audit = append(res.Audit, MatchAudit(action, ok[action], events[action]))
	}
	res.Chain = chain
	res.Checks = append(statusChecks(res.Obs), followCheck(res.Obs))
	if o.Budgets {
		comparisonBudget := o.D1Latency + comparisonBudgetSlack
		if o.Fault {
			// Under faults the comparison waits for D1 by design (2 s answers); only the
			// pages that do not need D1 keep their budget.
			comparisonBudget = 0
		}
		res.Checks = append(res.Checks, budgetChecks(res.Report, comparisonBudget)...)
	}
	res.Checks = append(res.Checks, auditChecks(res.Audit, chain)...)
	if o.Fault {
		res.Phases = phaseReports(res.Obs, names)
		res.Checks = append(res.Checks, faultChecks(res.Phases, res.Breaker, base, after, settleErr)...)
	}
	return res, nil
}

// printLoadResult writes the report: the latency table, per phase under faults, the breaker's
// states, the audit matching and every check with its verdict.
func printLoadResult(w io.Writer, r *loadResult) {
	fmt.Fprintln(w)
	printLatencyTable(w, r.Report)
	for _, p := range r.Phases {
		fmt.Fprintf(w, "\nphase %q: %d directory columns read, %d unavailable, %d stale, %d unexplained\n",
			p.Name, p.Columns, p.Unavailable, p.Stale, p.Unexplained)
		printLatencyTable(w, p.Report)
	}
	if len(r.Breaker) > 0 {
		fmt.Fprintln(w, "\nD1 breaker:")
		for _, c := range r.Breaker {
			name := ""
			if c.Phase < len(r.Phases) {
				name = r.Phases[c.Phase].Name
			}
			if c.Source == "client" {
				fmt.Fprintf(w, "  %8s  %-9s (%s)\n", c.At.Round(10*time.Millisecond), c.State, name)
			}
		}
	}
	fmt.Fprintln(w, "\naudit trail:")
	for _, m := range r.Audit {
		fmt.Fprintf(w, "  %s\n", m)
	}
	fmt.Fprintf(w, "  chain: %s\n\nchecks:\n", r.Chain)
	for _, c := range r.Checks {
		verdict := "PASS"
		if !c.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %s: %s\n", verdict, c.Name, c.Detail)
	}
}

// printLatencyTable writes one row per request kind: counts, failures and percentiles.
func printLatencyTable(w io.Writer, r drive.Report) {
	if r.Elapsed > 0 {
		fmt.Fprintf(w, "%d requests in %s (%.0f req/s)\n", r.Requests, r.Elapsed.Round(time.Millisecond), float64(r.Requests)/r.Elapsed.Seconds())
	}
	fmt.Fprintf(w, "%-20s %7s %6s %5s %5s %9s %9s %9s %9s\n", "kind", "count", "errors", "5xx", "4xx", "p50", "p95", "p99", "max")
	for _, k := range r.Kinds {
		fmt.Fprintf(w, "%-20s %7d %6d %5d %5d %9s %9s %9s %9s\n", k.Kind, k.Count, k.Errors, k.Status5xx, k.Status4xx,
			ms(k.P50), ms(k.P95), ms(k.P99), ms(k.Max))
	}
}
