package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goalSample = `pkg: ctpdesk/e2e
BenchmarkSignedInSearch/sqlite/email-2   	 100	 1 ns/op	 0.10 gap-ms
BenchmarkSignedInSearch/sqlite/email-2   	 100	 1 ns/op	 0.30 gap-ms
BenchmarkSignedInSearch/sqlite/email-2   	 100	 1 ns/op	 0.20 gap-ms
BenchmarkSignedInSearch/sqlite/last4-2   	 100	 1 ns/op	 0.40 gap-ms
BenchmarkSignedInSearch/sqlite/last4-2   	 100	 1 ns/op	 0.20 gap-ms
BenchmarkSignedInSearch/sqlite/last4-2   	 100	 1 ns/op	 0.24 gap-ms
BenchmarkCustomerViewCached-2 	 100	 1 ns/op	 5 bare/app-ratio
BenchmarkResidentMemory-2 	 1	 1 ns/op	 140 pss-MB	 1800 vmrss-MB
BenchmarkResidentMemory-2 	 0	 NaN ns/op
`

func TestGoalsComeFromTheMediansOfTheRun(t *testing.T) {
	res, err := parse(strings.NewReader(goalSample))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]goalRow{}
	for _, r := range res.evaluate(goals) {
		byName[r.prefix] = r
	}
	// The worst kind's median: email 0.20, last4 0.24.
	if r := byName["SignedInSearch/sqlite/"]; !r.measured || r.figure != 0.24 || r.from != "SignedInSearch/sqlite/last4" || !r.met() {
		t.Errorf("search gap: %+v", r)
	}
	// bare/app 5 is app/bare 0.2, short of 0.25.
	if r := byName["CustomerViewCached"]; !r.measured || r.figure != 0.2 || r.met() {
		t.Errorf("customer views: %+v", r)
	}
	if r := byName["ResidentMemory"]; r.figure != 140 || !r.met() {
		t.Errorf("memory: %+v", r)
	}
	if r := byName["Search/postgres/name-prefix"]; r.measured {
		t.Errorf("a goal without its benchmark counts as measured: %+v", r)
	}
	table := goalsTable(res.evaluate(goals))
	for _, want := range []string{
		"| 0.24 ms | ≤ 0.25 ms | 0.96 | yes | SignedInSearch/sqlite/last4 · gap-ms |",
		"| 0.2 × | ≥ 0.25 × | 0.8 | no | CustomerViewCached · bare/app-ratio |",
		"| not measured | ≤ 15 ms | — | — | Search/postgres/name-prefix (not in this run) |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("goals table lacks %q:\n%s", want, table)
		}
	}
}

func TestGoalsHeadTheReport(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "bench.txt"), filepath.Join(dir, "PERF.md")
	if err := os.WriteFile(in, []byte(goalSample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out, "", &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(out)
	goalsAt, allAt := strings.Index(string(md), "## Goals"), strings.Index(string(md), "## All benchmarks")
	if goalsAt < 0 || allAt < goalsAt {
		t.Errorf("the Goals table does not come first:\n%s", md)
	}
}

func TestHostileBenchOutputIsRejectedWithTheLine(t *testing.T) {
	for name, in := range map[string]string{
		"NaN figure":      "BenchmarkResidentMemory-2 1 1 ns/op NaN pss-MB\n",
		"infinite figure": "PASS\nBenchmarkResidentMemory-2 1 1 ns/op +Inf pss-MB\n",
		"word for number": "BenchmarkX-2 1 fast ns/op\n",
		"unit missing":    "BenchmarkX-2 1 1 ns/op 5\n",
		"endless line":    "BenchmarkX-2 1 " + strings.Repeat("9", 2<<20) + " ns/op\n",
	} {
		_, err := parse(strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), "line") {
			t.Errorf("%s: the error does not say where: %v", name, err)
		}
	}
}
