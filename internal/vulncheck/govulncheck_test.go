package vulncheck

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGovulncheckReadsTheBuiltDatabase proves the layout against the real scanner: the
// govulncheck version pinned in go.mod scans testdata/fixturemod with a database built by
// BuildDB, and its JSON output judged against an allowlist fails on exactly the advisory
// that is not waived. testdata/scan.json was produced the same way:
//
//	go run ./tools/vulncheck index -src internal/vulncheck/testdata/osv -out /tmp/fxdb
//	go tool govulncheck -C internal/vulncheck/testdata/fixturemod -db file:///tmp/fxdb -format json ./...
func TestGovulncheckReadsTheBuiltDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs govulncheck (about 10 s)")
	}
	db := filepath.Join(t.TempDir(), "db")
	if _, err := BuildDB("testdata/osv", db); err != nil {
		t.Fatal(err)
	}
	fixture, err := filepath.Abs("testdata/fixturemod")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "govulncheck", "-C", fixture, "-db", "file://"+db, "-format", "json", "./...")
	cmd.Dir = "../.." // the module whose go.mod pins the govulncheck tool
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("govulncheck: %v\n%s", err, stderr.String())
	}

	scan, err := ParseScan(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	if scan.DB != "file://"+db {
		t.Errorf("govulncheck used database %q, want %q", scan.DB, "file://"+db)
	}
	v := Judge(scan, Allowlist{"GO-2099-0001": "test waiver"}, LevelSymbol)
	if len(v.Blocking) != 1 || v.Blocking[0].ID != "GO-2099-0002" || v.Blocking[0].Where != "strings.Repeat" {
		t.Errorf("blocking = %+v, want only GO-2099-0002 at strings.Repeat", v.Blocking)
	}
	if len(v.Allowed) != 1 || v.Allowed[0].ID != "GO-2099-0001" {
		t.Errorf("allowed = %+v, want GO-2099-0001", v.Allowed)
	}
	// GO-2099-0003 is fixed in every Go release this module can use, so it must not appear.
	for _, f := range scan.Findings {
		if f.ID == "GO-2099-0003" {
			t.Errorf("GO-2099-0003 reported although fixed: %+v", f)
		}
	}
}
