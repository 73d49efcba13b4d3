package browsertest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestInCIAcceptsAnyValue(t *testing.T) {
	for value, want := range map[string]bool{"": false, "true": true, "1": true, "yes": true, "TRUE": true} {
		t.Setenv("CI", value)
		if got := inCI(); got != want {
			t.Errorf("CI=%q: inCI() = %v, want %v", value, got, want)
		}
	}
}

// TestMissingChromiumFailsOnlyInCI runs TestNewWithoutChromium in a child test process with
// no Chromium to find: every spelling of CI must fail it, and without CI it must skip.
func TestMissingChromiumFailsOnlyInCI(t *testing.T) {
	for _, tt := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"true", true, "Chromium is required in CI"},
		{"1", true, "Chromium is required in CI"},
		{"yes", true, "Chromium is required in CI"},
		{"", false, "--- SKIP: TestNewWithoutChromium"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNewWithoutChromium$", "-test.v")
		cmd.Env = append(os.Environ(), "BROWSERTEST_CHILD=1", "CI="+tt.ci, "CHROMIUM=", "PATH="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tt.wantFail || !strings.Contains(string(out), tt.want) {
			t.Errorf("CI=%q: child failed=%v (%v), want failed=%v and output containing %q:\n%s", tt.ci, failed, err, tt.wantFail, tt.want, out)
		}
	}
}

// TestNewWithoutChromium is the child of TestMissingChromiumFailsOnlyInCI.
func TestNewWithoutChromium(t *testing.T) {
	if os.Getenv("BROWSERTEST_CHILD") == "" {
		t.Skip("runs only as the child of TestMissingChromiumFailsOnlyInCI")
	}
	New(t, time.Second)
	t.Error("New returned although no Chromium can be found")
}
