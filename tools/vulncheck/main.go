// Command vulncheck is the offline half of `make vulncheck` (scripts/govulncheck.sh):
//
//	vulncheck index -src DIR -out DIR   turn vulndb's data/osv into a govulncheck file database
//	vulncheck judge -allow FILE [-fail-at symbol] [-in FILE]
//	                                    read `govulncheck -format json` and fail on any finding
//	                                    not waived by the allowlist
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"ctpdesk/internal/vulncheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run returns the exit code: 0 pass, 1 blocking findings, 2 usage or input errors.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: vulncheck index|judge [flags]")
		return 2
	}
	var err error
	code := 0
	switch args[0] {
	case "index":
		err = index(args[1:], stdout, stderr)
	case "judge":
		code, err = judge(args[1:], stdin, stdout, stderr)
	default:
		err = fmt.Errorf("unknown command %q (want index or judge)", args[0])
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "vulncheck:", err)
		}
		return 2
	}
	return code
}

func index(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := fs.String("src", "", "folder of OSV records (data/osv of golang.org/x/vulndb)")
	out := fs.String("out", "", "folder to write the database to (replaced)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *src == "" || *out == "" {
		return errors.New("index needs -src and -out")
	}
	start := time.Now()
	st, err := vulncheck.BuildDB(*src, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vulncheck: indexed %d advisories for %d modules into %s in %s\n",
		st.Entries, st.Modules, *out, time.Since(start).Round(time.Millisecond))
	return nil
}

func judge(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("judge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowPath := fs.String("allow", "", "allowlist file (GO-YYYY-NNNN reason, one a line)")
	failAt := fs.String("fail-at", "symbol", "weakest finding level that fails: symbol, package or module")
	in := fs.String("in", "", "govulncheck JSON output (default standard input)")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	level, err := vulncheck.ParseLevel(*failAt)
	if err != nil {
		return 0, err
	}
	allow := vulncheck.Allowlist{}
	if *allowPath != "" {
		f, err := os.Open(*allowPath)
		if err != nil {
			return 0, err
		}
		allow, err = vulncheck.ParseAllowlist(f)
		f.Close()
		if err != nil {
			return 0, err
		}
	}
	r := stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		r = f
	}
	scan, err := vulncheck.ParseScan(r)
	if err != nil {
		return 0, err
	}
	v := vulncheck.Judge(scan, allow, level)
	v.Report(stdout, allow)
	if !v.OK() {
		return 1, nil
	}
	return 0, nil
}
