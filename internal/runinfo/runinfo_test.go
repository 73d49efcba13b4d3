package runinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestCPUModel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"processor\t: 0\nmodel name\t: AMD EPYC 7B13\nmodel name\t: other\n", "AMD EPYC 7B13"},
		{"processor\t: 0\nflags\t: fpu\n", "unknown CPU"},
		{"model name\t:   \n", "unknown CPU"},
		{"", "unknown CPU"},
	} {
		if got := cpuModel(tc.in); got != tc.want {
			t.Errorf("cpuModel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDescribeNamesTheToolchainAndCores(t *testing.T) {
	d := Describe()
	for _, want := range []string{"commit ", runtime.Version(), " cores (GOMAXPROCS "} {
		if !strings.Contains(d, want) {
			t.Errorf("Describe() = %q, lacks %q", d, want)
		}
	}
}

func TestLoadAverage(t *testing.T) {
	if got := loadAverage("10.53 8.41 7.90 3/812 4242\n"); got != "10.53" {
		t.Errorf("loadAverage = %q, want 10.53", got)
	}
	if got := loadAverage(""); got != "unknown" {
		t.Errorf("loadAverage of nothing = %q", got)
	}
}
