// Package runinfo describes where and on what a measurement ran (commit, CPU, cores, Go), so
// that every recorded figure of ctpdesk carries the same account of its machine.
package runinfo

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Describe returns the commit of the working tree, the CPU model, the core count and the Go
// toolchain, e.g. "commit 40b01c9, AMD EPYC, 2 cores (GOMAXPROCS 2), go1.26.10 linux/amd64".
// What cannot be read is reported as unknown rather than failing the measurement.
func Describe() string {
	return fmt.Sprintf("commit %s, %s, %d cores (GOMAXPROCS %d), %s %s/%s",
		commit(), cpuModel(readFile("/proc/cpuinfo")), runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// cpuModel takes the first "model name" of a /proc/cpuinfo text.
func cpuModel(cpuinfo string) string {
	for _, l := range strings.Split(cpuinfo, "\n") {
		if key, value, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(key) == "model name" {
			if v := strings.TrimSpace(value); v != "" {
				return v
			}
		}
	}
	return "unknown CPU"
}

// LoadAverage returns the machine's one-minute load average as /proc/loadavg gives it, or
// "unknown". On a shared machine it says how much else was running beside a measurement.
func LoadAverage() string {
	return loadAverage(readFile("/proc/loadavg"))
}

func loadAverage(loadavg string) string {
	if f := strings.Fields(loadavg); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
