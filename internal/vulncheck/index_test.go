package vulncheck

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBuildDBWritesTheV1Layout(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "db")
	st, err := BuildDB("testdata/osv", dst)
	if err != nil {
		t.Fatal(err)
	}
	wantStats := Stats{Entries: 3, Modules: 2, Modified: time.Date(2099, 2, 3, 4, 5, 6, 0, time.UTC)}
	if diff := cmp.Diff(wantStats, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}

	wantModules := `[{"path":"example.com/other","vulns":[{"id":"GO-2099-0003","modified":"2098-12-31T00:00:00Z"}]},` +
		`{"path":"stdlib","vulns":[{"id":"GO-2099-0001","modified":"2099-01-02T03:04:05Z"},` +
		`{"id":"GO-2099-0002","modified":"2099-02-03T04:05:06Z"},` +
		`{"id":"GO-2099-0003","modified":"2098-12-31T00:00:00Z","fixed":"1.3.5"}]}]`
	for name, want := range map[string]string{
		"index/db":      `{"modified":"2099-02-03T04:05:06Z"}`,
		"index/modules": wantModules,
		"index/vulns": `[{"id":"GO-2099-0001","modified":"2099-01-02T03:04:05Z","aliases":["CVE-2099-0001"]},` +
			`{"id":"GO-2099-0002","modified":"2099-02-03T04:05:06Z"},{"id":"GO-2099-0003","modified":"2098-12-31T00:00:00Z"}]`,
	} {
		got := mustReadPair(t, filepath.Join(dst, name))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	for _, id := range []string{"GO-2099-0001", "GO-2099-0002", "GO-2099-0003"} {
		src, err := os.ReadFile(filepath.Join("testdata/osv", id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := mustReadPair(t, filepath.Join(dst, "ID", id)); got != string(src) {
			t.Errorf("ID/%s.json is not the source record byte for byte", id)
		}
	}
}

// mustReadPair reads base.json and checks base.json.gz holds the same bytes.
func mustReadPair(tb testing.TB, base string) string {
	tb.Helper()
	plain, err := os.ReadFile(base + ".json")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(base + ".json.gz")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(plain, unzipped) {
		tb.Fatalf("%s.json.gz differs from %s.json", base, base)
	}
	return string(plain)
}

func TestBuildDBRejectsBadRecordsAndKeepsTheOldDatabase(t *testing.T) {
	good, err := os.ReadFile("testdata/osv/GO-2099-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"empty folder", map[string]string{}, "no OSV .json files"},
		{"not JSON", map[string]string{"GO-2099-0001.json": "{not json"}, "decode OSV"},
		{"file named after another id", map[string]string{"GO-2099-0009.json": string(good)}, "must be named <ID>.json"},
		{"id that is a path", map[string]string{"x.json": `{"id":"../../etc/passwd","affected":[]}`}, "not of the form GO-YYYY-NNNN"},
		{"id missing", map[string]string{"x.json": `{"affected":[]}`}, "not of the form GO-YYYY-NNNN"},
		{"affected without module", map[string]string{"GO-2099-0005.json": `{"id":"GO-2099-0005","affected":[{"package":{}}]}`}, "names no module"},
		{"bad time", map[string]string{"GO-2099-0005.json": `{"id":"GO-2099-0005","modified":"yesterday"}`}, "decode OSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			parent := t.TempDir()
			dst := filepath.Join(parent, "db")
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(dst, "previous")
			if err := os.WriteFile(marker, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}

			_, err := BuildDB(src, dst)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BuildDB error = %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Stat(marker); err != nil {
				t.Errorf("a failed build touched the existing database: %v", err)
			}
			left, _ := filepath.Glob(filepath.Join(parent, "db.tmp-*"))
			if len(left) != 0 {
				t.Errorf("a failed build left %v behind", left)
			}
		})
	}
}

func TestLatestFix(t *testing.T) {
	semverRange := func(events ...rangeEvent) []osvRange {
		return []osvRange{{Type: "SEMVER", Events: events}}
	}
	tests := []struct {
		name   string
		ranges []osvRange
		want   string
	}{
		{"no ranges", nil, ""},
		{"never fixed", semverRange(rangeEvent{Introduced: "0"}), ""},
		{"one fix", semverRange(rangeEvent{Introduced: "0"}, rangeEvent{Fixed: "1.4.2"}), "1.4.2"},
		{"newest of several fixes", semverRange(rangeEvent{Introduced: "0"}, rangeEvent{Fixed: "1.10.0"}, rangeEvent{Introduced: "1.2.0"}, rangeEvent{Fixed: "1.9.3"}), "1.10.0"},
		{"reintroduced after the last fix", semverRange(rangeEvent{Introduced: "0"}, rangeEvent{Fixed: "1.0.4"}, rangeEvent{Introduced: "1.1.2"}), ""},
		{"prerelease fix", semverRange(rangeEvent{Introduced: "0"}, rangeEvent{Fixed: "2.0.0-rc.2"}), "2.0.0-rc.2"},
		{"non-SEMVER ranges ignored", []osvRange{{Type: "GIT", Events: []rangeEvent{{Fixed: "abc123"}}}}, ""},
	}
	for _, tt := range tests {
		if got := latestFix(tt.ranges); got != tt.want {
			t.Errorf("%s: latestFix = %q, want %q", tt.name, got, tt.want)
		}
	}
}
