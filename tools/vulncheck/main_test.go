package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	allowOne := filepath.Join(dir, "one.allow")
	allowBoth := filepath.Join(dir, "both.allow")
	mustWrite(t, allowOne, "GO-2099-0001 test waiver\n")
	mustWrite(t, allowBoth, "GO-2099-0001 test waiver\nGO-2099-0002 test waiver\n")
	scan := "../../internal/vulncheck/testdata/scan.json"

	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		inOutput string
	}{
		{"blocking finding", []string{"judge", "-allow", allowOne, "-in", scan}, "", 1, "FAIL    GO-2099-0002"},
		{"all waived", []string{"judge", "-allow", allowBoth, "-in", scan}, "", 0, "0 blocking, 2 allowlisted"},
		{"empty govulncheck output on stdin", []string{"judge", "-allow", allowBoth}, "", 2, "no config message"},
		{"bad level", []string{"judge", "-fail-at", "high", "-in", scan}, "", 2, "not module, package or symbol"},
		{"missing allowlist", []string{"judge", "-allow", filepath.Join(dir, "nope"), "-in", scan}, "", 2, "no such file"},
		{"index without flags", []string{"index"}, "", 2, "needs -src and -out"},
		{"index of an empty folder", []string{"index", "-src", dir, "-out", filepath.Join(dir, "db")}, "", 2, "holds no OSV"},
		{"index", []string{"index", "-src", "../../internal/vulncheck/testdata/osv", "-out", filepath.Join(dir, "db")}, "", 0, "indexed 3 advisories for 2 modules"},
		{"unknown command", []string{"scan"}, "", 2, "unknown command"},
		{"no command", nil, "", 2, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.inOutput) {
				t.Errorf("run(%q) = %d with output\n%s\nwant %d and output containing %q", tt.args, code, out.String(), tt.code, tt.inOutput)
			}
		})
	}
}

func mustWrite(tb testing.TB, path, body string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
}
