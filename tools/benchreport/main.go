// Command benchreport turns the output of `go test -bench -count N` into one table of medians,
// printed and written to docs/PERFORMANCE.md with the machine, date, commit and method. Every
// figure is the median of the N runs of a benchmark, all taken in the same invocation, so that
// ratios compare numbers measured side by side on the same (shared, noisy) machine.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"ctpdesk/internal/runinfo"
	"ctpdesk/internal/stats"
)

func main() {
	out := flag.String("o", "docs/PERFORMANCE.md", "markdown file to write")
	in := flag.String("i", "-", "benchmark output to read (- for stdin)")
	readme := flag.String("readme", "", "README whose figures section to rewrite from the same run (empty: none)")
	flag.Parse()
	if err := run(*in, *out, *readme, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in, out, readme string, stdout io.Writer) error {
	var r io.Reader = os.Stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	res, err := parse(r)
	if err != nil {
		return err
	}
	if len(res.order) == 0 {
		return fmt.Errorf("no benchmark results in the input")
	}
	table := res.table()
	fmt.Fprint(stdout, table)
	goalsMD := goalsTable(res.evaluate(goals))
	fmt.Fprint(stdout, goalsMD)
	when := time.Now().UTC().Format("2006-01-02 15:04 MST") + ", " + runinfo.Describe()
	md := "# ctpdesk performance\n\nMeasured by `make bench` on " + when + ".\n\n" + goalsMD + "## All benchmarks\n\n" + table + method
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	if readme == "" {
		return nil
	}
	return writeReadme(readme, res.readmeBlock(readmeFigures, when))
}

// results holds every value of every metric of every benchmark, in first-seen order.
type results struct {
	order  []string
	pkg    map[string]string
	values map[string]map[string][]float64
	units  map[string][]string
}

// parse reads `go test -bench` output. A result line is: name, iterations, then pairs of value
// and unit.
func parse(r io.Reader) (*results, error) {
	res := &results{pkg: map[string]string{}, values: map[string]map[string][]float64{}, units: map[string][]string{}}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		// go test prints a benchmark that failed before its first iteration as "0 NaN ns/op":
		// no result, and the failure itself is in the output above it.
		if n, err := strconv.Atoi(fields[1]); err != nil || n == 0 {
			continue
		}
		name := trimProcs(fields[0])
		if _, seen := res.values[name]; !seen {
			res.order = append(res.order, name)
			res.values[name] = map[string][]float64{}
			res.pkg[name] = pkg
		}
		if len(fields)%2 != 0 {
			return nil, fmt.Errorf("line %d: %s: a value without its unit", lineNo, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("line %d: %s: %q is not a finite number", lineNo, name, fields[i])
			}
			unit := fields[i+1]
			if _, seen := res.values[name][unit]; !seen {
				res.units[name] = append(res.units[name], unit)
			}
			res.values[name][unit] = append(res.values[name][unit], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", lineNo, err)
	}
	return res, nil
}

// trimProcs drops the -GOMAXPROCS suffix go test adds to benchmark names.
func trimProcs(name string) string {
	if i := strings.LastIndex(name, "-"); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

func (res *results) table() string {
	var b strings.Builder
	b.WriteString("| package | benchmark | runs | medians |\n| --- | --- | ---: | --- |\n")
	for _, name := range res.order {
		var parts []string
		runs := 0
		for _, unit := range res.units[name] {
			vs := res.values[name][unit]
			runs = max(runs, len(vs))
			parts = append(parts, format(stats.Median(vs), unit))
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", strings.TrimPrefix(res.pkg[name], "ctpdesk/"),
			strings.TrimPrefix(name, "Benchmark"), runs, strings.Join(parts, " · "))
	}
	return b.String()
}

func format(v float64, unit string) string {
	switch unit {
	case "ns/op":
		return time.Duration(v).Round(time.Microsecond/10).String() + "/op"
	case "B/op", "allocs/op":
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

const method = `
## Method

Each benchmark ran several times (` + "`-count`" + `) in one ` + "`go test -p 1 -bench`" + ` invocation, one
package at a time; the table shows the median of those runs for every unit the benchmark
reports. Custom units (` + "`p50-ms`" + `, ` + "`p95-ms`" + `, ` + "`ratio`" + `, ` + "`events/s`" + ` …) are reported by the benchmarks
themselves with ` + "`b.ReportMetric`" + `; percentiles are nearest-rank and medians the middle value, both
from ` + "`internal/stats`" + `, the same functions the load test reports with. Ratios compare figures
measured side by side in the same benchmark, both sides warmed alike and measured in turns.
The machine is shared, so absolute numbers move between runs; the ratios are the stable part.
The Goals table is computed from the same output: each goal names the benchmark and unit its
figure is the median of (the worst one where a goal covers several, such as every kind of
search), and a goal whose benchmark did not run says "not measured".

**Signed-in search** (` + "`e2e` SignedInSearch" + `): ` + "`ctpdesk serve`" + ` runs as a child process on the
portfolio of ` + "`CTPDESK_BENCH_CUSTOMERS`" + ` customers (the issuer database opened read-only), with a
SQLite dashboard database for its sessions and its durable audit trail, and the D1 sandbox and
the development OpenID Provider in the benchmark's process over TLS. A user signs in through
the provider; each iteration then makes, in turns, one search over HTTP with that session
(http), the same query through ` + "`issuerdb.Search`" + ` in the benchmark's process (raw) and one audit
` + "`Record`" + ` on a SQLite store of its own (commit). ` + "`gap-ms`" + ` = http − raw − commit at the medians: what the
app adds around the query and the commit it must wait for.

**Resident memory** (` + "`e2e` ResidentMemory" + `): the same child process, 200 users signed in, each on
its own connection, 60 % searches and 40 % customer views (page and comparison) for 15 s, while
` + "`/proc/<pid>/status`" + ` and ` + "`/proc/<pid>/smaps_rollup`" + ` of the child are sampled every 250 ms; the peaks
are reported. ` + "`vmrss-MB`" + ` is what ` + "`ps`" + ` shows: it counts a page once per mapping, so a file mapped by
8 connections counts up to 8 times. ` + "`rss-anon-MB`" + ` (heap, stacks, SQLite's page caches) and
` + "`rss-file-MB`" + ` (the binary, mapped files) are its two halves. ` + "`pss-MB`" + ` divides each page among the
mappings that share it, so every page the process holds counts once; it is the goal's figure.
A container's memory cgroup charges anonymous memory plus each page-cache page once, whoever
maps or reads it: the issuer file's pages are charged once whether mapped or read with pread,
and, being clean file pages, the kernel reclaims them under the container's limit before it
would kill anything; anonymous memory it cannot reclaim. So what the limit must hold is the
anonymous part plus whatever page cache it leaves room for, which Pss bounds for the pages
the process maps and which ` + "`ps`" + ` overstates eight-fold with a per-connection memory map. MB in the
unit names are MiB.

The load-test figures are not benchmarks: ` + "`make loadtest`" + ` writes its whole report (latencies
per request kind, audit matching, checks), with the date, machine, commit and flags, to
[LOADTEST.md](LOADTEST.md).
`
