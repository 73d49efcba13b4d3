package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ctpdesk/internal/stats"
	"ctpdesk/issuerdb"
)

// fetchBody GETs url with client and returns the body, failing on anything but 200.
func fetchBody(b *testing.B, client *http.Client, url string, headers ...string) []byte {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}

// BenchmarkCustomerViewCached measures the throughput of whole customer views (the issuer half,
// then its comparison fragment) with the D1 result already cached, from 16 concurrent clients,
// and beside it a bare net/http server writing the same bytes to the same clients. Each view
// commits two durable audit events before its data is sent. Both sides are warmed alike (every
// page once) and measured in four alternating rounds (app, bare, bare, app), so a machine that
// speeds up or slows down during the run weighs on both. It also reports the process's
// resident memory after the load.
func BenchmarkCustomerViewCached(b *testing.B) {
	a, client := startBenchApp(b, 0)
	const customers = 20
	pages := make([][2][]byte, customers)
	for i := range customers {
		id := issuerdb.CustomerID(i)
		pages[i][0] = fetchBody(b, client, a.URL+"/customers/"+id)
		pages[i][1] = fetchBody(b, client, a.URL+"/customers/"+id+"/comparison", "HX-Request", "true")
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.Atoi(r.URL.Query().Get("c"))
		part := 0
		if r.URL.Query().Get("p") == "1" {
			part = 1
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(pages[i%customers][part])
	}))
	defer bare.Close()
	bareClient := bare.Client()
	appView := func(i int) {
		id := issuerdb.CustomerID(i % customers)
		fetchBody(b, client, a.URL+"/customers/"+id)
		fetchBody(b, client, a.URL+"/customers/"+id+"/comparison", "HX-Request", "true")
	}
	bareView := func(i int) {
		fetchBody(b, bareClient, fmt.Sprintf("%s/?c=%d&p=0", bare.URL, i))
		fetchBody(b, bareClient, fmt.Sprintf("%s/?c=%d&p=1", bare.URL, i))
	}
	for i := range customers {
		bareView(i)
	}

	// round makes n views from 16 workers and returns how many it made, how long it took and
	// the CPU time the process spent meanwhile (server and clients alike, on either side).
	round := func(n int, view func(i int)) (int, time.Duration, time.Duration) {
		const workers = 16
		per := max(1, n/workers)
		cpu := processCPU(b)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for j := range per {
					view(w*per + j)
				}
			})
		}
		wg.Wait()
		return per * workers, time.Since(start), processCPU(b) - cpu
	}
	var appViews, bareViews int
	var appTime, bareTime, appCPU, bareCPU time.Duration
	b.ResetTimer()
	for _, app := range []bool{true, false, false, true} {
		if app {
			b.StartTimer()
			n, d, cpu := round(b.N/2, appView)
			b.StopTimer()
			appViews, appTime, appCPU = appViews+n, appTime+d, appCPU+cpu
		} else {
			n, d, cpu := round(b.N/2, bareView)
			bareViews, bareTime, bareCPU = bareViews+n, bareTime+d, bareCPU+cpu
		}
	}
	appRate := float64(appViews) / appTime.Seconds()
	bareRate := float64(bareViews) / bareTime.Seconds()
	b.ReportMetric(appRate, "views/s")
	b.ReportMetric(bareRate, "bare-views/s")
	b.ReportMetric(bareRate/appRate, "bare/app-ratio")
	// CPU per view says what a view costs even when other work on the machine takes the
	// cores away from one side of the comparison more than from the other.
	appCPUPerView := float64(appCPU.Microseconds()) / float64(appViews)
	bareCPUPerView := float64(bareCPU.Microseconds()) / float64(bareViews)
	b.ReportMetric(appCPUPerView, "app-cpu-µs/view")
	b.ReportMetric(bareCPUPerView, "bare-cpu-µs/view")
	b.ReportMetric(appCPUPerView/bareCPUPerView, "app/bare-cpu-ratio")
	b.ReportMetric(residentMB(b), "rss-MB")
}

// processCPU is the CPU time, user and system, this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// residentMB reads this process's resident set size (the app runs in-process).
func residentMB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Logf("rss: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

var profileAttemptsRE = regexp.MustCompile(`ctpdesk_d1_attempts_total\{op="profiles",status="200"\} (\d+)`)

// d1ProfileCalls scrapes /metrics (startBenchApp lets loopback in) for the number of successful profile requests
// sent to D1 so far.
func d1ProfileCalls(b *testing.B, a *testApp) int {
	b.Helper()
	resp, body := a.get(b, "/metrics")
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("/metrics: %d", resp.StatusCode)
	}
	m := profileAttemptsRE.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// BenchmarkCoalescing opens one customer's comparison from 50 clients at once, a consumer
// nobody has looked at yet, with D1 answering after 200 ms, and reports how many page requests
// one D1 call served. Without coalescing the ratio would be 1.
func BenchmarkCoalescing(b *testing.B) {
	a, client := startBenchApp(b, 200*time.Millisecond)
	const concurrent = 50
	requests, before := 0, d1ProfileCalls(b, a)
	b.ResetTimer()
	for i := range b.N {
		id := issuerdb.CustomerID(i % benchCustomers)
		var wg sync.WaitGroup
		for range concurrent {
			wg.Go(func() {
				fetchBody(b, client, a.URL+"/customers/"+id+"/comparison", "HX-Request", "true")
			})
		}
		wg.Wait()
		requests += concurrent
	}
	b.StopTimer()
	calls := d1ProfileCalls(b, a) - before
	if calls == 0 {
		b.Fatal("no D1 call was counted")
	}
	b.ReportMetric(float64(requests)/float64(calls), "requests/D1-call")
}

// BenchmarkColdStart measures `ctpdesk dev` from run() to the first 200 from /readyz, on a data
// directory seeded by an earlier start (the state of every start after the first), and
// reports the median of its starts. It also reports that earlier start, which seeds the
// portfolio of 20,000 customers: one sample per run.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	env := map[string]string{"CTPDESK_DATA_DIR": dir, "CTPDESK_DEV_CUSTOMERS": "20000"}
	startReady := func() (*testApp, time.Duration) {
		start := time.Now()
		a := startApp(b, "dev", env)
		for {
			resp, _ := a.get(b, "/readyz")
			if resp.StatusCode == http.StatusOK {
				return a, time.Since(start)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	first, seeding := startReady()
	if err := first.Stop(); err != nil {
		b.Fatal(err)
	}
	var ready []time.Duration
	b.ResetTimer()
	for range b.N {
		a, d := startReady()
		ready = append(ready, d)
		b.StopTimer()
		if err := a.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(ms(stats.Median(ready)), "ms-to-ready")
	b.ReportMetric(ms(seeding), "first-start-ms")
}
