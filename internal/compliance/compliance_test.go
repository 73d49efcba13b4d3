// Package compliance holds the check that keeps docs/COMPLIANCE.md true: every test it names
// exists, every file it names is there, every control ctpdesk claims names a test, and its
// coverage line adds up.
package compliance

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// row is one requirement of the map.
type row struct {
	line  int
	id    string
	how   string
	tests []string
	owner string
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	testName   = regexp.MustCompile(`^(Test[A-Za-z0-9_]+)(?:/([A-Za-z0-9_.-]+))?$`)
	repoPath   = regexp.MustCompile(`^[a-z0-9_]+(?:/[A-Za-z0-9_.-]+)*(?:/|\.go|\.md)$`)
	testFunc   = regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
	coverage   = regexp.MustCompile(`(?m)^Coverage: (\d+) applicable requirements, (\d+) mapped to a test, (\d+) the bank's alone, (\d+) met by documentation, (\d+) gaps\.$`)
	owners     = map[string]bool{"ctpdesk": true, "shared": true, "bank": true, "doc": true, "gap": true, "n/a": true}
)

// repoRoot is the directory holding go.mod, found upwards from the test's directory.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// testFiles maps every test function of the repository to the source of the file declaring it.
func testFiles(tb testing.TB, root string) map[string]string {
	tb.Helper()
	found := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			found[m[1]] = string(src)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return found
}

// parseRows reads the requirement rows of the map's tables: five cells, the header and
// separator rows left out.
func parseRows(tb testing.TB, doc string) []row {
	tb.Helper()
	var rows []row
	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Req ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 5 {
			tb.Errorf("line %d: %d cells, want 5 (requirement, what, how, proved by, owner): %s", i+1, len(cells), line)
			continue
		}
		r := row{line: i + 1, id: cells[0], how: cells[2], owner: strings.TrimSpace(cells[4])}
		for _, m := range backticked.FindAllStringSubmatch(cells[3], -1) {
			r.tests = append(r.tests, m[1])
		}
		rows = append(rows, r)
	}
	return rows
}

// TestComplianceMapNamesOnlyRealTests: each test docs/COMPLIANCE.md names exists (a subtest's
// name appears in its test's file), each file it names exists, each row has a known owner, and
// every row ctpdesk meets alone or shares names at least one test. It logs the coverage and
// fails when the page's coverage line disagrees.
func TestComplianceMapNamesOnlyRealTests(t *testing.T) {
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs", "COMPLIANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	tests := testFiles(t, root)
	rows := parseRows(t, doc)
	if len(rows) < 50 {
		t.Fatalf("only %d requirement rows parsed: the table format changed", len(rows))
	}
	var applicable, mapped, bank, documented, gaps int
	for _, r := range rows {
		if !owners[r.owner] {
			t.Errorf("line %d (%s): owner %q is none of ctpdesk, shared, bank, doc, gap, n/a", r.line, r.id, r.owner)
		}
		for _, name := range r.tests {
			m := testName.FindStringSubmatch(name)
			if m == nil {
				t.Errorf("line %d (%s): %q in the proved-by column is not a test name", r.line, r.id, name)
				continue
			}
			src, ok := tests[m[1]]
			switch {
			case !ok:
				t.Errorf("line %d (%s): test %s no longer exists", r.line, r.id, m[1])
			case m[2] != "" && !strings.Contains(src, `"`+m[2]+`"`):
				t.Errorf("line %d (%s): %s has no subtest %q", r.line, r.id, m[1], m[2])
			}
		}
		if (r.owner == "ctpdesk" || r.owner == "shared") && len(r.tests) == 0 {
			t.Errorf("line %d (%s): a control ctpdesk claims names no test", r.line, r.id)
		}
		if r.owner == "n/a" {
			continue
		}
		applicable++
		if len(r.tests) > 0 {
			mapped++
		}
		switch {
		case r.owner == "bank":
			bank++
		case r.owner == "doc":
			documented++
		}
		if r.owner == "gap" || strings.Contains(r.how, "**gap**") {
			gaps++
		}
	}
	for _, m := range backticked.FindAllStringSubmatch(doc, -1) {
		p := m[1]
		if !repoPath.MatchString(p) {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			t.Errorf("COMPLIANCE.md names %s, which does not exist", p)
		}
	}
	got := fmt.Sprintf("%d applicable requirements, %d mapped to a test, %d the bank's alone, %d met by documentation, %d gaps",
		applicable, mapped, bank, documented, gaps)
	t.Logf("coverage: %s", got)
	line := coverage.FindStringSubmatch(doc)
	if line == nil {
		t.Fatalf("COMPLIANCE.md has no coverage line; it should read: Coverage: %s.", got)
	}
	if want := fmt.Sprintf("%s applicable requirements, %s mapped to a test, %s the bank's alone, %s met by documentation, %s gaps",
		line[1], line[2], line[3], line[4], line[5]); want != got {
		t.Errorf("COMPLIANCE.md's coverage line says %q; the tables give %q", want, got)
	}
}
