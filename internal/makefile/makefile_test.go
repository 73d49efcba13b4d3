package makefile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository root, where the Makefile lives.
var root = func() string {
	p, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return p
}()

// makeTarget runs `make TARGET` of the repository's Makefile in dir and returns its combined
// output and whether it failed. vars are make variable assignments; env is added to the
// environment, from which an outer make's settings are removed.
func makeTarget(t *testing.T, dir, target string, vars, env []string) (string, bool) {
	t.Helper()
	args := append([]string{"-s", "-C", dir, "-f", filepath.Join(root, "Makefile"), target}, vars...)
	cmd := exec.Command("make", args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAKEFLAGS=") && !strings.HasPrefix(kv, "MFLAGS=") && !strings.HasPrefix(kv, "MAKELEVEL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("make %s: %v", target, err)
	}
	return string(out), err != nil
}

// fixture copies the folder testdata/NAME (none when name is "") to a temporary folder,
// writes files (name → content) over it and `git add`s every file, since the Makefile's
// checks list files with git ls-files.
func fixture(t *testing.T, name string, edits map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if name != "" {
		if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", name))); err != nil {
			t.Fatal(err)
		}
	}
	for file, content := range edits {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	return dir
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTidyCheckFailsOnAnUntidyModule(t *testing.T) {
	// Offline: the fixture's one requirement and its checksums come from the module cache.
	env := []string{"GOPROXY=off", "GOSUMDB=off", "GOWORK=off"}
	goMod := readFixture(t, "tidymod/go.mod")
	goSum := readFixture(t, "tidymod/go.sum")

	if out, failed := makeTarget(t, fixture(t, "tidymod", nil), "tidy-check", nil, env); failed || out != "" {
		t.Fatalf("tidy-check failed on the tidy fixture:\n%s", out)
	}
	for name, tt := range map[string]struct {
		edits map[string]string
		want  string // in the diff go mod tidy -diff prints
	}{
		"imported requirement marked indirect": {
			map[string]string{"go.mod": strings.Replace(goMod, "v0.7.0", "v0.7.0 // indirect", 1)},
			"-require github.com/google/go-cmp v0.7.0 // indirect",
		},
		"requirement nothing imports": {
			map[string]string{"main.go": "package main\n\nfunc main() {}\n"},
			"-require github.com/google/go-cmp v0.7.0",
		},
		"go.sum without the requirement's checksums": {
			map[string]string{"go.sum": ""},
			"+github.com/google/go-cmp v0.7.0 h1:",
		},
		"go.sum with a checksum nothing needs": {
			map[string]string{"go.sum": goSum + "golang.org/x/mod v0.43.0/go.mod h1:4ec1JnuyBz5+FIVhg86UsA39YG8BpnrZdJYSNHmGzHY=\n"},
			"-golang.org/x/mod v0.43.0/go.mod",
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, failed := makeTarget(t, fixture(t, "tidymod", tt.edits), "tidy-check", nil, env)
			if !failed || !strings.Contains(out, "are not tidy") || !strings.Contains(out, tt.want) {
				t.Errorf("tidy-check failed=%v, want a failure showing %q:\n%s", failed, tt.want, out)
			}
		})
	}
}

// A go.mod that go mod tidy cannot read fails too, and is not reported as a diff.
func TestTidyCheckFailsWhenTidyCannotRun(t *testing.T) {
	dir := fixture(t, "tidymod", map[string]string{"go.mod": "module example.com/tidyfixture\n\nrequire (\n"})
	out, failed := makeTarget(t, dir, "tidy-check", nil, []string{"GOPROXY=off", "GOSUMDB=off", "GOWORK=off"})
	if !failed || !strings.Contains(out, "go mod tidy -diff failed") || strings.Contains(out, "are not tidy") {
		t.Errorf("tidy-check failed=%v, want a failure saying go mod tidy could not run:\n%s", failed, out)
	}
}

func TestTemplFmtCheckFailsOnAnUnformattedFile(t *testing.T) {
	// The Makefile runs `go tool templ` of the main module. The fixture folder is no module,
	// so the very binary that command runs (go tool -n prints its path) is passed as TEMPL.
	locate := exec.Command("go", "tool", "-n", "templ")
	locate.Dir = root
	templ, err := locate.Output()
	if err != nil {
		t.Fatalf("go tool -n templ: %v", err)
	}
	vars := []string{"TEMPL=" + strings.TrimSpace(string(templ))}
	// The fixture is stored as .txt so that templ generate in the repository leaves it alone.
	good := readFixture(t, "hello.templ.txt")

	if out, failed := makeTarget(t, fixture(t, "", map[string]string{"hello.templ": good}), "templ-fmt-check", vars, nil); failed || out != "" {
		t.Fatalf("templ-fmt-check failed on the formatted fixture:\n%s", out)
	}
	for name, bad := range map[string]string{
		"expression without spaces": strings.Replace(good, "{ name }", "{name}", 1),
		"element not indented":      strings.Replace(good, "\t\t<p>Hello", "<p>Hello", 1),
		"spaces for tabs":           strings.ReplaceAll(good, "\t", "    "),
	} {
		t.Run(name, func(t *testing.T) {
			if bad == good {
				t.Fatal("the edit changed nothing")
			}
			dir := fixture(t, "", map[string]string{"hello.templ": bad})
			out, failed := makeTarget(t, dir, "templ-fmt-check", vars, nil)
			if !failed || !strings.Contains(out, "templ fmt would change") || !strings.Contains(out, "hello.templ") {
				t.Errorf("templ-fmt-check failed=%v, want a failure naming hello.templ:\n%s", failed, out)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "hello.templ")); string(got) != bad {
				t.Error("templ-fmt-check rewrote the file; a check must change nothing")
			}
		})
	}
	t.Run("not templ at all", func(t *testing.T) {
		dir := fixture(t, "", map[string]string{"hello.templ": "package templfmt\n\ntempl Hello( {\n"})
		if out, failed := makeTarget(t, dir, "templ-fmt-check", vars, nil); !failed {
			t.Errorf("templ-fmt-check passed a file that does not parse:\n%s", out)
		}
	})
}

// TestVulncheckFailsOnAReachableAdvisory runs `make vulncheck` itself, pointed at the
// synthetic advisories and the module that calls them (internal/vulncheck/testdata), with the
// real allowlist: both advisories are reachable and not waived, so the target must fail with
// the judge's exit status 1 (findings), not 2 (the check could not run).
func TestVulncheckFailsOnAReachableAdvisory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs govulncheck (about 10 s)")
	}
	testdata := filepath.Join(root, "internal", "vulncheck", "testdata")
	env := []string{
		"VULNDB_OSV_DIR=" + filepath.Join(testdata, "osv"),
		"VULNCHECK_MODULE=" + filepath.Join(testdata, "fixturemod"),
		"VULNCHECK_CACHE=" + t.TempDir(),
	}
	out, failed := makeTarget(t, root, "vulncheck", nil, env)
	for _, want := range []string{"FAIL    GO-2099-0001 [symbol]", "FAIL    GO-2099-0002 [symbol]", "vulncheck: 2 blocking", "Error 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("make vulncheck output lacks %q", want)
		}
	}
	if !failed || t.Failed() {
		t.Fatalf("make vulncheck failed=%v; output:\n%s", failed, out)
	}
	if strings.Contains(out, "GO-2099-0003") {
		t.Errorf("GO-2099-0003 is fixed in the Go in use but was reported:\n%s", out)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// helpLines runs make help on the Makefile at path and returns name → description, and the
// column each description starts at.
func helpLines(t *testing.T, makefile string) (map[string]string, map[string]int) {
	t.Helper()
	cmd := exec.Command("make", "-s", "-f", makefile, "help")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, stderr.String())
	}
	descs, cols := map[string]string{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimRight(ansi.ReplaceAllString(string(out), ""), "\n"), "\n") {
		m := regexp.MustCompile(`^  (\S+)( +)(\S.*)$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("make help line %q is not \"  name  description\"", line)
		}
		descs[m[1]] = m[3]
		cols[m[1]] = 2 + len(m[1]) + len(m[2])
	}
	return descs, cols
}

func TestHelpListsEveryTargetAndTheStepsOfLint(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	descs, cols := helpLines(t, filepath.Join(root, "Makefile"))

	var phony []string
	for _, m := range regexp.MustCompile(`(?m)^\.PHONY: *(.+)$`).FindAllStringSubmatch(string(raw), -1) {
		phony = append(phony, strings.Fields(m[1])...)
	}
	if len(phony) < 10 {
		t.Fatalf("found only %d .PHONY targets in the Makefile", len(phony))
	}
	for _, name := range phony {
		if descs[name] == "" {
			t.Errorf("make help does not list %s: give it a ## description", name)
		}
	}
	col := cols["help"]
	for name, c := range cols {
		if c != col {
			t.Errorf("make help: %s's description starts at column %d, help's at %d", name, c, col)
		}
	}

	m := regexp.MustCompile(`(?m)^lint:([^#]*)##`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("no documented lint target in the Makefile")
	}
	steps := strings.Fields(m[1])
	for _, want := range []string{"fmt-check", "templ-fmt-check", "check-generated", "tidy-check", "vet", "staticcheck", "deploycheck", "vulncheck"} {
		if !slices.Contains(steps, want) {
			t.Errorf("make lint does not run %s", want)
		}
	}
	if !strings.HasSuffix(descs["lint"], strings.Join(steps, " ")) {
		t.Errorf("make help describes lint as %q; it must name its steps %v", descs["lint"], steps)
	}
}

func TestHelpAlignsToTheLongestName(t *testing.T) {
	mk := filepath.Join(t.TempDir(), "Makefile")
	body := "help: ## Show this list.\n\t@awk -f " + filepath.Join(root, "scripts", "make-help.awk") + " $(MAKEFILE_LIST)\n" +
		"x: ## Short.\n\ttrue\n" +
		"a-rather-long-target-name: x ## Long.\n\ttrue\n" +
		"all: x a-rather-long-target-name ## Both, in order:\n\ttrue\n" +
		"hidden-helper:\n\ttrue\n"
	if err := os.WriteFile(mk, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	descs, cols := helpLines(t, mk)
	want := map[string]string{
		"help": "Show this list.", "x": "Short.", "a-rather-long-target-name": "Long.",
		"all": "Both, in order: x a-rather-long-target-name",
	}
	for name, d := range want {
		if descs[name] != d {
			t.Errorf("%s: description %q, want %q", name, descs[name], d)
		}
		if c := 2 + len("a-rather-long-target-name") + 2; cols[name] != c {
			t.Errorf("%s: description at column %d, want %d", name, cols[name], c)
		}
	}
	if len(descs) != len(want) {
		t.Errorf("make help listed %v, want exactly %v (no undocumented target)", descs, want)
	}
}
