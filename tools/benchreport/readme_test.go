package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const readmeSample = `pkg: ctpdesk/e2e
BenchmarkColdStart-2   	 20	 56000000 ns/op	 61.0 ms-to-ready
BenchmarkColdStart-2   	 20	 58000000 ns/op	 63.0 ms-to-ready
BenchmarkColdStart-2   	 20	 57000000 ns/op	 99.0 ms-to-ready
pkg: ctpdesk/audit
BenchmarkRecord/sqlite/writers=16-2   	 1000	 35100 ns/op	 28460 events/s
BenchmarkLoginRoundTrip-2   	 1000	 2629900 ns/op
`

// The README's figures come from the run: medians, written between the markers, the text
// around them kept, and a figure the run did not measure says so instead of keeping an old one.
func TestReadmeFiguresComeFromTheRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bench.txt")
	if err := os.WriteFile(in, []byte(readmeSample), 0o644); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	before, after := "# Title\n\n## Performance\n\nIntro.\n\n", "\n\n## Development\n\nRest.\n"
	old := readmeBegin + "\n| cold start | 1 ms |\n" + readmeEnd
	if err := os.WriteFile(readme, []byte(before+old+after), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, filepath.Join(dir, "PERF.md"), readme, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	if !strings.HasPrefix(got, before) || !strings.HasSuffix(got, after) {
		t.Errorf("the text around the figures changed:\n%s", got)
	}
	for _, want := range []string{
		"| cold start of `ctpdesk dev` to a ready `/readyz` (data already seeded) | 63 ms |",
		"| login round trip through the development IdP | 2.63ms |",
		"| durable audit appends/s, SQLite, 1 / 16 / 64 writers | not measured / 28,460 / not measured |",
		"| search p95, SQLite, raw query | ids not measured · phone not measured · ",
		"| resident memory, 200 connections, 1M SQLite issuer | Pss not measured; VmRSS not measured |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("README lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "| 1 ms |") {
		t.Error("the old figure survived")
	}
}

// A README without the markers, or with them twice, is an error naming the file, not a README
// quietly left stale.
func TestReadmeWithoutMarkersIsAnError(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bench.txt")
	if err := os.WriteFile(in, []byte(readmeSample), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"none":     "# Title\n",
		"twice":    readmeBegin + "\n" + readmeEnd + "\n" + readmeBegin + "\n" + readmeEnd + "\n",
		"reversed": readmeEnd + "\n" + readmeBegin + "\n",
	} {
		readme := filepath.Join(dir, name+".md")
		if err := os.WriteFile(readme, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		err := run(in, filepath.Join(dir, "PERF.md"), readme, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), readme) {
			t.Errorf("%s: err = %v, want one naming %s", name, err, readme)
		}
		if raw, _ := os.ReadFile(readme); string(raw) != text {
			t.Errorf("%s: the README was changed", name)
		}
	}
}

// The project's README holds the markers, so `make bench` does not fail at its last step.
func TestProjectReadmeHasTheMarkers(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	if strings.Count(text, readmeBegin) != 1 || strings.Count(text, readmeEnd) != 1 || strings.Index(text, readmeEnd) < strings.Index(text, readmeBegin) {
		t.Errorf("README.md must hold %q and %q once each, in order", readmeBegin, readmeEnd)
	}
}
