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
