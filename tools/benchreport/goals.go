package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"ctpdesk/internal/stats"
)

// goal is one performance goal and where its figure comes from: the median of unit over the
// runs of every benchmark whose name (without "Benchmark") starts with prefix, the worst of
// them when several match. invert turns a reported ratio into the one the goal names.
type goal struct {
	name   string
	prefix string
	unit   string
	invert bool
	atMost bool // the figure must be ≤ target; otherwise ≥ target
	target float64
	shown  string // the figure's unit as the table prints it
}

// goals are the performance goals the dashboard is held to, measured side by side on the
// machine `make bench` runs on.
var goals = []goal{
	{name: "Signed-in search over HTTP: p50 − raw SQL − one durable commit, worst kind, SQLite", prefix: "SignedInSearch/sqlite/", unit: "gap-ms", atMost: true, target: 0.25, shown: "ms"},
	{name: "Signed-in search over HTTP: p50 − raw SQL − one durable commit, worst kind, PostgreSQL", prefix: "SignedInSearch/postgres/", unit: "gap-ms", atMost: true, target: 0.25, shown: "ms"},
	{name: "Cached customer views at 16 clients, app ÷ bare net/http", prefix: "CustomerViewCached", unit: "bare/app-ratio", invert: true, target: 0.25, shown: "×"},
	{name: "16 concurrent signed-in searches, p95, SQLite", prefix: "SignedInSearch/sqlite/http-16-clients", unit: "p95-ms", atMost: true, target: 25, shown: "ms"},
	{name: "16 concurrent signed-in searches, p95, PostgreSQL", prefix: "SignedInSearch/postgres/http-16-clients", unit: "p95-ms", atMost: true, target: 25, shown: "ms"},
	{name: "PostgreSQL name prefix search, one client, p95", prefix: "Search/postgres/name-prefix", unit: "p95-ms", atMost: true, target: 15, shown: "ms"},
	{name: "PostgreSQL name prefix search, one client, p95, long-tail surnames (worst query)", prefix: "SearchLongTail/", unit: "p95-ms", atMost: true, target: 15, shown: "ms"},
	{name: "Resident memory under 200 connections, 1M SQLite issuer (Pss: anonymous + mapped file pages once)", prefix: "ResidentMemory", unit: "pss-MB", atMost: true, target: 150, shown: "MiB"},
}

// goalRow is one goal's outcome.
type goalRow struct {
	goal
	measured bool
	figure   float64
	from     string // the benchmark the figure comes from
}

// evaluate computes each goal's figure from the results.
func (res *results) evaluate(gs []goal) []goalRow {
	rows := make([]goalRow, 0, len(gs))
	for _, g := range gs {
		row := goalRow{goal: g}
		for _, name := range res.order {
			short := strings.TrimPrefix(name, "Benchmark")
			vs := res.values[name][g.unit]
			if !strings.HasPrefix(short, g.prefix) || len(vs) == 0 {
				continue
			}
			v := stats.Median(vs)
			if g.invert {
				if v == 0 {
					continue
				}
				v = 1 / v
			}
			worse := g.atMost && v > row.figure || !g.atMost && v < row.figure
			if !row.measured || worse {
				row.measured, row.figure, row.from = true, v, short
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// met says whether the figure meets the target.
func (r goalRow) met() bool {
	if r.atMost {
		return r.figure <= r.target
	}
	return r.figure >= r.target
}

// goalsTable is the Goals section: each goal's figure, its ratio to the target, whether it is
// met and the benchmark it comes from. A goal no benchmark of this run measured says so.
func goalsTable(rows []goalRow) string {
	var b strings.Builder
	b.WriteString("## Goals\n\n| goal | figure | target | figure ÷ target | met | benchmark |\n| --- | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range rows {
		op := "≥"
		if r.atMost {
			op = "≤"
		}
		target := op + " " + num(r.target) + " " + r.shown
		if !r.measured {
			fmt.Fprintf(&b, "| %s | not measured | %s | — | — | %s (not in this run) |\n", r.name, target, r.prefix)
			continue
		}
		met := "no"
		if r.met() {
			met = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s | %s · %s |\n", r.name, num(r.figure), r.shown, target,
			num(r.figure/r.target), met, r.from, r.unit)
	}
	b.WriteString("\n")
	return b.String()
}

func num(v float64) string {
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
