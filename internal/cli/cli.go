// Package cli is ctpdesk's command line: Run parses the subcommand and runs it. Each
// subcommand lives in its own file and does flags and printing only; the work is done by the
// packages it calls (internal/app, internal/devstack, audit, issuerdb).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"ctpdesk/internal/config"
)

// Version is stamped at build time with
// -ldflags "-X ctpdesk/internal/cli.Version=…".
var Version = "dev"

// env is what the process hands a command: its environment variables and output streams.
// Tests build one to run the whole program in-process.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand of ctpdesk.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists every subcommand; --help prints them.
func commands() map[string]command {
	return map[string]command{
		"dev":     {summary: "run the whole dashboard with everything embedded (what `make run` does)", run: runDev},
		"serve":   {summary: "run the dashboard in production against real OIDC, D1 and databases", run: runServe},
		"seed":    {summary: "write a deterministic synthetic customer portfolio into an empty issuer database", run: runSeed},
		"audit":   {summary: "verify the audit trail's hash chain (audit verify) or apply retention (audit purge)", run: runAudit},
		"sandbox": {summary: "run the D1 sandbox alone (token + get profiles, with fault injection)", run: runSandbox},
		"scan":    {summary: "run one portfolio drift scan in the foreground with a progress line", run: runScan},
		"version": {summary: "print the version", run: runVersion},
	}
}

// Run is the whole program: it parses the subcommand in args[1] and runs it until ctx is
// cancelled. A clean stop returns nil; so does --help.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		usage(stdout, cmds)
		if len(args) < 2 {
			return errors.New("no command given")
		}
		return nil
	}
	cmd, ok := cmds[args[1]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("unknown command %q", args[1])
	}
	err := cmd.run(ctx, e, args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("ctpdesk " + Version + ": Click to Pay profiles beside the issuer record.\n\nUsage: ctpdesk COMMAND [flags]\n\nCommands:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", name, cmds[name].summary)
	}
	b.WriteString("\nRun 'ctpdesk COMMAND --help' for a command's flags. Settings come from CTPDESK_* variables (see README.md).\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a flag set for a subcommand that prints its usage to stdout and returns
// errors instead of exiting.
func newFlagSet(e *env, name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	fs.Usage = func() {
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if !hasFlags {
			fmt.Fprintf(e.stdout, "Usage: ctpdesk %s\n\n%s\n", name, summary)
			return
		}
		fmt.Fprintf(e.stdout, "Usage: ctpdesk %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

// withVariables makes fs's usage also list the CTPDESK_* variables mode reads, with the
// default each takes when unset.
func withVariables(e *env, fs *flag.FlagSet, mode config.Mode) {
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintf(e.stdout, "\nSettings (environment variables; README.md explains each):\n")
		for _, v := range config.Variables(mode) {
			def := v.Default
			if def == "" {
				def = "(none)"
			}
			fmt.Fprintf(e.stdout, "  %-34s %s\n", v.Name, def)
		}
	}
}

// newLogger writes JSON lines at level to w.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// runVersion prints the version.
func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "Print the version of this build.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("version: unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintln(e.stdout, "ctpdesk", Version)
	return nil
}
