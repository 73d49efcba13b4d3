// Command ctpdesk is the issuer back-office dashboard that shows each Click to Pay directory's
// profile of a customer beside the issuer's own record. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ctpdesk:", err)
		}
		os.Exit(1)
	}
}

// command is one subcommand of ctpdesk. Each lives in its own cmd_*.go file.
type command struct {
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

// environment is what the process hands a command: its environment variables and output
// streams. Tests build one to run the whole program in-process.
type environment struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// commands lists every subcommand that works today; --help prints them.
func commands() map[string]command {
	return map[string]command{
		"dev":      {summary: "run the whole dashboard with everything embedded (what `make run` does)", run: runDev},
		"serve":    {summary: "run the dashboard in production against real OIDC, D1 and databases", run: runServe},
		"seed":     {summary: "write a deterministic synthetic customer portfolio into an empty issuer database", run: runSeed},
		"audit":    {summary: "verify the audit trail's hash chain (audit verify) or apply retention (audit purge)", run: runAudit},
		"sandbox":  {summary: "run the D1 sandbox alone (token + get profiles, with fault injection)", run: runSandbox},
		"loadtest": {summary: "run the whole dev dashboard in-process under a bounded loopback load and check it", run: runLoadtest},
	}
}

// run is the whole program: it parses the subcommand and runs it until ctx is cancelled.
// A clean stop returns nil.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	env := &environment{getenv: getenv, stdout: stdout, stderr: stderr}
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
	err := cmd.run(ctx, env, args[2:])
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
	b.WriteString("ctpdesk " + version + ": Click to Pay profiles beside the issuer record.\n\nUsage: ctpdesk COMMAND [flags]\n\nCommands:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %-8s %s\n", name, cmds[name].summary)
	}
	b.WriteString("\nRun 'ctpdesk COMMAND --help' for a command's flags. Settings come from CTPDESK_* variables (see README.md).\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a flag set for a subcommand that prints its usage to the environment's
// stdout and returns errors instead of exiting.
func newFlagSet(env *environment, name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stdout)
	fs.Usage = func() {
		fmt.Fprintf(env.stdout, "Usage: ctpdesk %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}
