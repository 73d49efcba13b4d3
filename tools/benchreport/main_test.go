package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: ctpdesk/issuerdb
BenchmarkSearch/email-2   	    1000	   1500000 ns/op	         1.2 p95-ms
BenchmarkSearch/email-2   	    1000	   1700000 ns/op	         1.9 p95-ms
BenchmarkSearch/email-2   	    1000	   1600000 ns/op	         1.4 p95-ms
pkg: ctpdesk/d1
BenchmarkGetProfiles-2 	  5000	  250000 ns/op	  1.08 ratio	  512 B/op	  9 allocs/op
garbage line
BenchmarkBroken-2  notanumber 12 ns/op
PASS
`

func TestMediansAndTable(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bench.txt")
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "PERF.md")
	var printed strings.Builder
	if err := run(in, out, "", &printed); err != nil {
		t.Fatal(err)
	}
	table := printed.String()
	for _, want := range []string{"| issuerdb | Search/email | 3 | 1.6ms/op · 1.4 p95-ms |", "| d1 | GetProfiles | 1 | 250µs/op · 1.08 ratio · 512 B/op · 9 allocs/op |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "Broken") {
		t.Error("a malformed line became a row")
	}
	md, _ := os.ReadFile(out)
	if !strings.Contains(string(md), "## Method") || !strings.Contains(string(md), "commit") || !strings.Contains(string(md), "(LOADTEST.md)") {
		t.Errorf("markdown lacks its header, its method or the load test's report:\n%s", md)
	}
}

func TestNoResultsIsAnError(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "empty.txt")
	os.WriteFile(in, []byte("PASS\n"), 0o644)
	if err := run(in, filepath.Join(dir, "x.md"), "", &strings.Builder{}); err == nil {
		t.Error("empty input accepted")
	}
}
