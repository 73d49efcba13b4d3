package e2e_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcKBReadsTheNamedSizes(t *testing.T) {
	status := "Name:\tctpdesk\nVmPeak:\t 3300000 kB\nVmRSS:\t  153600 kB\nRssAnon:\t   51200 kB\nRssFile:\t  102400 kB\nRssShmem:\t       0 kB\nThreads:\t12\n"
	got, err := parseProcKB(strings.NewReader(status), "VmRSS", "RssAnon", "RssFile", "RssShmem")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"VmRSS": 153600, "RssAnon": 51200, "RssFile": 102400, "RssShmem": 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// smaps_rollup starts with an address range, and Pss_Anon must not be taken for Pss.
	rollup := "00400000-7ffc0000 ---p 00000000 00:00 0  [rollup]\nRss:  153600 kB\nPss_Anon:  51200 kB\nPss:   60000 kB\n"
	got, err = parseProcKB(strings.NewReader(rollup), "Pss")
	if err != nil || got["Pss"] != 60000 {
		t.Errorf("Pss = %v, %v; want 60000", got, err)
	}
}

func TestParseProcKBRejectsBrokenInput(t *testing.T) {
	for name, in := range map[string]string{
		"missing line": "VmRSS:\t1 kB\n",
		"no unit":      "VmRSS:\t1\nRssAnon:\t1 kB\n",
		"not a number": "VmRSS:\tlots kB\nRssAnon:\t1 kB\n",
		"negative":     "VmRSS:\t-5 kB\nRssAnon:\t1 kB\n",
		"empty":        "",
	} {
		if got, err := parseProcKB(strings.NewReader(in), "VmRSS", "RssAnon"); err == nil {
			t.Errorf("%s: got %v, want an error", name, got)
		}
	}
}
