package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/loadtest/drive"
	"ctpdesk/issuerdb"
)

// memoryLoad is how long the memory benchmark drives its 200 connections per iteration.
const memoryLoad = 15 * time.Second

// BenchmarkResidentMemory runs `ctpdesk serve` as a child process over the portfolio of
// CTPDESK_BENCH_CUSTOMERS customers (a million in `make bench`), signs 200 users in through the
// OpenID Provider and drives them for memoryLoad, each on its own connection: 60 % searches of
// every kind, 40 % customer views (the page, then its comparison fragment). Meanwhile it samples
// the child's /proc/<pid>/status and smaps_rollup and reports the peak of each figure:
//   - vmrss-MB: resident pages as ps counts them, a page mapped twice counted twice;
//   - rss-anon-MB, rss-file-MB: the anonymous and file-backed parts of that;
//   - pss-MB: each resident page divided among the mappings that share it, so a page of the
//     issuer file mapped by every pooled connection counts once: anonymous memory plus file
//     pages charged once, what a container's memory cgroup charges for the process's own
//     mappings (docs/PERFORMANCE.md says how the page cache of files read with pread is
//     charged). The goal is pss-MB ≤ 150.
func BenchmarkResidentMemory(b *testing.B) {
	p := signedInPortfolio(b)
	// This process reads the Go runtime's own figures from /metrics, on loopback.
	app := startServed(b, p.URL, "CTPDESK_METRICS_NETWORKS=127.0.0.1/32")
	const users = 200
	cookies := make([]string, users)
	clients := make([]*http.Client, users)
	for u := range users {
		role := "agent"
		if u%2 == 1 {
			role = "fraud"
		}
		cookies[u] = app.SignIn(b, role)
		clients[u] = keepAliveClient(1)
	}
	var all []string
	for _, qs := range portfolioQueries(p.Customers) {
		all = append(all, qs...)
	}
	base := app.URL()
	get := func(ctx context.Context, client *http.Client, target, cookie string, hx bool) (int, error) {
		if _, err := signedInGet(ctx, client, target, cookie, hx); err != nil {
			return 0, err
		}
		return http.StatusOK, nil
	}
	mix := func(user int, rng *rand.Rand) drive.Request {
		if rng.IntN(10) < 6 {
			target := searchURL(base, all[rng.IntN(len(all))])
			return drive.Request{Kind: "search", Do: func(ctx context.Context, c *http.Client) (int, error) {
				return get(ctx, c, target, cookies[user], true)
			}}
		}
		page := base + "/customers/" + issuerdb.CustomerID(rng.IntN(p.Customers))
		return drive.Request{Kind: "customer-view", Do: func(ctx context.Context, c *http.Client) (int, error) {
			if status, err := get(ctx, c, page, cookies[user], false); err != nil {
				return status, err
			}
			return get(ctx, c, page+"/comparison", cookies[user], true)
		}}
	}
	before, err := readProcMemory(app.PID())
	if err != nil {
		b.Fatal(err)
	}
	var peak procMemory
	var rep drive.Report
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				m, err := readProcMemory(app.PID())
				if err != nil {
					b.Error(err)
					return
				}
				m.GoHeapMB, m.GoSysMB, err = goRuntimeMB(ctx, base)
				if err != nil && ctx.Err() == nil {
					b.Error(err)
					return
				}
				peak = peak.max(m)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		})
		rep = drive.Run(context.Background(), drive.Options{Users: users, Duration: memoryLoad, MaxRequests: 1_000_000,
			Clients: func(u int) *http.Client { return clients[u] }, Mix: mix})
		cancel()
		wg.Wait()
		for _, k := range rep.Kinds {
			if k.Errors > 0 || k.Status4xx > 0 || k.Status5xx > 0 || k.Count == 0 {
				b.Fatalf("%s: %d requests, %d failed", k.Kind, k.Count, k.Errors+k.Status4xx+k.Status5xx)
			}
		}
	}
	b.ReportMetric(before.PssMB, "idle-pss-MB")
	b.ReportMetric(peak.VmRSSMB, "vmrss-MB")
	b.ReportMetric(peak.RssAnonMB, "rss-anon-MB")
	b.ReportMetric(peak.RssFileMB, "rss-file-MB")
	b.ReportMetric(peak.PssMB, "pss-MB")
	b.ReportMetric(peak.GoHeapMB, "go-heap-inuse-MB")
	b.ReportMetric(peak.GoSysMB, "go-sys-MB")
	for _, k := range rep.Kinds {
		b.ReportMetric(ms(k.P95), k.Kind+"-p95-ms")
	}
	b.ReportMetric(float64(rep.Requests)/rep.Elapsed.Seconds(), "requests/s")
}

// procMemory is a process's memory as /proc shows it, in MiB.
type procMemory struct {
	VmRSSMB, RssAnonMB, RssFileMB, RssShmemMB, PssMB float64
	// GoHeapMB is the Go heap in use and GoSysMB all the Go runtime holds from the system,
	// from the app's /metrics; the rest of the anonymous memory is SQLite's (its page caches
	// and statements live outside the Go heap).
	GoHeapMB, GoSysMB float64
}

// max is the larger of each figure.
func (m procMemory) max(o procMemory) procMemory {
	return procMemory{
		VmRSSMB: max(m.VmRSSMB, o.VmRSSMB), RssAnonMB: max(m.RssAnonMB, o.RssAnonMB), RssFileMB: max(m.RssFileMB, o.RssFileMB),
		RssShmemMB: max(m.RssShmemMB, o.RssShmemMB), PssMB: max(m.PssMB, o.PssMB),
		GoHeapMB: max(m.GoHeapMB, o.GoHeapMB), GoSysMB: max(m.GoSysMB, o.GoSysMB),
	}
}

// readProcMemory reads process pid's /proc/<pid>/status and /proc/<pid>/smaps_rollup.
func readProcMemory(pid int) (procMemory, error) {
	var m procMemory
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer status.Close()
	st, err := parseProcKB(status, "VmRSS", "RssAnon", "RssFile", "RssShmem")
	if err != nil {
		return m, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	rollup, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return m, err
	}
	defer rollup.Close()
	pss, err := parseProcKB(rollup, "Pss")
	if err != nil {
		return m, fmt.Errorf("/proc/%d/smaps_rollup: %w", pid, err)
	}
	const kbPerMB = 1024
	return procMemory{VmRSSMB: st["VmRSS"] / kbPerMB, RssAnonMB: st["RssAnon"] / kbPerMB, RssFileMB: st["RssFile"] / kbPerMB,
		RssShmemMB: st["RssShmem"] / kbPerMB, PssMB: pss["Pss"] / kbPerMB}, nil
}

// parseProcKB reads "Name:   123 kB" lines and returns the named ones in kB; a name that is
// missing or whose value is not a number of kB is an error.
func parseProcKB(r io.Reader, names ...string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !want[name] {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !ok || err != nil || v < 0 {
			return nil, fmt.Errorf("%s: %q is not a size in kB", name, strings.TrimSpace(rest))
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("no %s line", n)
		}
	}
	return out, nil
}

// goRuntimeMB reads the Go heap in use and the memory the Go runtime holds from the app's
// /metrics, in MiB.
func goRuntimeMB(ctx context.Context, base string) (heap, sys float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("/metrics: %d", resp.StatusCode)
	}
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && (name == "go_memstats_heap_inuse_bytes" || name == "go_memstats_sys_bytes") {
			if values[name], err = strconv.ParseFloat(value, 64); err != nil {
				return 0, 0, fmt.Errorf("/metrics: %s %q", name, value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	const mib = 1 << 20
	return values["go_memstats_heap_inuse_bytes"] / mib, values["go_memstats_sys_bytes"] / mib, nil
}
