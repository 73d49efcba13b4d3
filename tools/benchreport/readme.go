package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"ctpdesk/internal/stats"
)

// The README's figures sit between these two lines, which benchreport rewrites on every run,
// so the README never quotes a figure that no recorded run holds.
const (
	readmeBegin = "<!-- benchreport:figures (written by make bench from docs/PERFORMANCE.md's run; do not edit) -->"
	readmeEnd   = "<!-- /benchreport:figures -->"
)

// figure is one row of the README's table: what it measures and the medians it quotes.
type figure struct {
	what  string
	cells []cell
}

// cell is one quoted median: an optional label before it, the benchmark (without "Benchmark")
// and unit it is the median of, and what follows the number.
type cell struct {
	label, bench, unit, suffix string
}

// searchCells quotes the p95 of every search kind of one backend.
func searchCells(bench, backend, unit string) []cell {
	kinds := [][2]string{{"ids", "customer-id"}, {"phone", "phone"}, {"email", "email"}, {"last 4", "last4"},
		{"exact name", "name-exact"}, {"name prefix", "name-prefix"}}
	out := make([]cell, len(kinds))
	for i, k := range kinds {
		out[i] = cell{label: k[0], bench: bench + "/" + backend + "/" + k[1], unit: unit, suffix: " ms"}
	}
	return out
}

// readmeFigures are the figures the README quotes.
var readmeFigures = []figure{
	{"search p95, SQLite, raw query", searchCells("Search", "sqlite", "p95-ms")},
	{"search p95, PostgreSQL, raw query", searchCells("Search", "postgres", "p95-ms")},
	{"signed-in search over HTTP p50, SQLite (real session, durable audit)", searchCells("SignedInSearch", "sqlite", "http-p50-ms")},
	{"signed-in search over HTTP p50, PostgreSQL", searchCells("SignedInSearch", "postgres", "http-p50-ms")},
	{"16 concurrent signed-in searches, SQLite / PostgreSQL", []cell{
		{"p95", "SignedInSearch/sqlite/http-16-clients", "p95-ms", " ms"},
		{"/", "SignedInSearch/postgres/http-16-clients", "p95-ms", " ms"}}},
	{"seeding 1,000,000 customers into SQLite", []cell{{"", "SeedSQLite", "load-s", " s"}}},
	{"comparison fragment, sandbox at 200 ms", []cell{
		{"p50", "ComparisonFragment", "p50-ms", " ms"}, {"", "ComparisonFragment", "p50/latency", " × the D1 latency"}}},
	{"comparison fragment render (templ), agent / fraud analyst", []cell{
		{"", "ComparisonRender/agent-diff-only", "ns/op", ""}, {"/", "ComparisonRender/fraud-all-fields", "ns/op", ""}}},
	{"issuer half, time to first byte, D1 at 0 ms / 2 s", []cell{
		{"p50", "IssuerHalfTTFB/d1=0s", "p50-ttfb-ms", " ms"}, {"/", "IssuerHalfTTFB/d1=2s", "p50-ttfb-ms", " ms"}}},
	{"requests served per D1 call, 50 concurrent opens of one customer", []cell{{"", "Coalescing", "requests/D1-call", ""}}},
	{"cached customer views (page + comparison, two durable audit events), 16 clients", []cell{
		{"app", "CustomerViewCached", "views/s", " views/s"}, {"; bare `net/http` writing the same bytes", "CustomerViewCached", "bare-views/s", ""},
		{"; app CPU per view", "CustomerViewCached", "app-cpu-µs/view", " µs"}}},
	{"resident memory, 200 connections, 1M SQLite issuer", []cell{
		{"Pss", "ResidentMemory", "pss-MB", " MiB"}, {"; VmRSS", "ResidentMemory", "vmrss-MB", " MiB"}}},
	{"cold start of `ctpdesk dev` to a ready `/readyz` (data already seeded)", []cell{{"", "ColdStart", "ms-to-ready", " ms"}}},
	{"D1 client per uncached call / bare `http.Client` GET / from cache", []cell{
		{"", "GetProfiles/client-uncached", "ns/op", ""}, {"/", "GetProfiles/bare-http", "ns/op", ""}, {"/", "GetProfiles/client-cached", "ns/op", ""}}},
	{"durable audit appends/s, SQLite, 1 / 16 / 64 writers", []cell{
		{"", "Record/sqlite/writers=1", "events/s", ""}, {"/", "Record/sqlite/writers=16", "events/s", ""}, {"/", "Record/sqlite/writers=64", "events/s", ""}}},
	{"durable audit appends/s, PostgreSQL, 1 / 16 / 64 writers", []cell{
		{"", "Record/postgres/writers=1", "events/s", ""}, {"/", "Record/postgres/writers=16", "events/s", ""}, {"/", "Record/postgres/writers=64", "events/s", ""}}},
	{"portfolio scan, SQLite / PostgreSQL", []cell{
		{"", "ScanThroughput/sqlite", "customers/s", " customers/s"}, {"/", "ScanThroughput/postgres", "customers/s", ""}}},
	{"login round trip through the development IdP", []cell{{"", "LoginRoundTrip", "ns/op", ""}}},
}

// readmeBlock is the README's figures section for this run.
func (res *results) readmeBlock(figs []figure, when string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nFrom `make bench` on %s (docs/PERFORMANCE.md: medians of every run in one invocation).\n\n", readmeBegin, when)
	b.WriteString("| what | figure |\n| --- | --- |\n")
	for _, f := range figs {
		var row strings.Builder
		for i, c := range f.cells {
			// A cell whose label starts with "/" or ";" joins the one before; the rest are
			// figures of their own, set apart by a dot.
			switch {
			case i == 0:
			case strings.HasPrefix(c.label, "/"):
				row.WriteString(" ")
			case !strings.HasPrefix(c.label, ";"):
				row.WriteString(" · ")
			}
			if c.label != "" {
				row.WriteString(c.label + " ")
			}
			if m, ok := res.median(c.bench, c.unit); ok {
				row.WriteString(quote(m, c.unit) + c.suffix)
			} else {
				row.WriteString("not measured")
			}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", f.what, row.String())
	}
	b.WriteString(readmeEnd)
	return b.String()
}

// median is the median of unit over the runs of the benchmark named bench.
func (res *results) median(bench, unit string) (float64, bool) {
	vs := res.values["Benchmark"+bench][unit]
	if len(vs) == 0 {
		return 0, false
	}
	return stats.Median(vs), true
}

// quote prints a median for a reader: a duration to three significant figures for ns/op,
// thousands grouped from 1,000.
func quote(v float64, unit string) string {
	if unit == "ns/op" {
		d := time.Duration(v)
		step := time.Duration(1)
		for d >= 1000*step {
			step *= 10
		}
		return d.Round(step).String()
	}
	if v >= 1000 {
		s := fmt.Sprintf("%.0f", v)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	}
	return num(v)
}

// writeReadme replaces the figures section of the README at path, which must hold both
// marker lines once, in order; the rest of the file is left as it is.
func writeReadme(path, block string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(raw)
	begin, end := strings.Index(text, readmeBegin), strings.Index(text, readmeEnd)
	if begin < 0 || end < begin || strings.Count(text, readmeBegin) != 1 || strings.Count(text, readmeEnd) != 1 {
		return fmt.Errorf("%s: want the figure markers once each, in order:\n%s\n%s", path, readmeBegin, readmeEnd)
	}
	text = text[:begin] + block + text[end+len(readmeEnd):]
	return os.WriteFile(path, []byte(text), 0o644)
}
