package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"ctpdesk/d1sandbox"
	"ctpdesk/internal/loadtest/drive"
)

// faultTimings are the lengths of the fault run's phases.
type faultTimings struct {
	Warmup    time.Duration // healthy load before the starting level is measured
	Healthy   time.Duration
	Errors    time.Duration // D1 answers 20 % of requests with 503
	Down      time.Duration // D1 refuses every connection
	Slow      time.Duration // D1 answers, in 2 s
	Recovered time.Duration // D1 healthy again; long enough for the breaker to close
	Settle    time.Duration // bounded wait for goroutines and sockets to come back
}

// fullFaultTimings is `make loadtest-fault`: 30 s of each fault, and a recovery longer
// than the default 30 s the breaker stays open.
var fullFaultTimings = faultTimings{
	Warmup: 10 * time.Second, Healthy: 15 * time.Second, Errors: 30 * time.Second,
	Down: 30 * time.Second, Slow: 30 * time.Second, Recovered: 40 * time.Second, Settle: 30 * time.Second,
}

// Fault run parameters.
const (
	faultErrorRate   = 0.2
	faultSlowLatency = 2 * time.Second
	// Slack of the leak check: background goroutines that start on first use (a pool's
	// cleaner, a timer) may appear once; a leak grows with the thousands of failed calls.
	goroutineSlack = 10
	socketSlack    = 2
)

// faultPhase is one step of the fault sequence.
type faultPhase struct {
	Name   string
	Length time.Duration
	Apply  func(h *loadHarness) error
}

// faultPhases is the sequence: healthy, 20 % 503s, down, 2 s answers, healthy again.
// Phase 0 of a run is the warm-up.
func faultPhases(t faultTimings, d1Latency time.Duration) []faultPhase {
	healthy := func(h *loadHarness) error {
		h.front.setFailureRate(0)
		h.sandbox.SetFault(d1sandbox.Fault{Latency: d1Latency})
		return nil
	}
	return []faultPhase{
		{Name: "healthy", Length: t.Healthy, Apply: healthy},
		{Name: "503 x 20%", Length: t.Errors, Apply: func(h *loadHarness) error {
			h.front.setFailureRate(faultErrorRate)
			return nil
		}},
		{Name: "down", Length: t.Down, Apply: func(h *loadHarness) error {
			h.front.setFailureRate(0)
			h.front.down()
			return nil
		}},
		{Name: "2s answers", Length: t.Slow, Apply: func(h *loadHarness) error {
			h.sandbox.SetFault(d1sandbox.Fault{Latency: faultSlowLatency})
			return h.front.up()
		}},
		{Name: "recovered", Length: t.Recovered, Apply: healthy},
	}
}

// runFaultSequence applies each phase in turn and marks the run with its number, until the
// sequence ends or ctx does.
func runFaultSequence(ctx context.Context, h *loadHarness, run *Run, phases []faultPhase) error {
	for i, p := range phases {
		if err := p.Apply(h); err != nil {
			return fmt.Errorf("loadtest: fault phase %s: %w", p.Name, err)
		}
		run.phase.Store(int32(i + 1))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.Length):
		}
	}
	return nil
}

// breakerChange is a state the D1 breaker was seen in, when, and by whom: the D1 client
// itself or the breaker gauge /metrics exports.
type breakerChange struct {
	At     time.Duration
	Phase  int
	State  string
	Source string // "client" or "metrics"
}

// watchBreaker polls the banking API's breaker every 10 ms, both in the D1 client and in the
// metrics it reports to, and records each change of state until ctx ends. An open breaker
// stays open for at least a second, so the polling cannot miss it.
func watchBreaker(ctx context.Context, h *loadHarness, run *Run) func() []breakerChange {
	var changes []breakerChange
	done := make(chan struct{})
	start := time.Now()
	sources := []struct {
		name  string
		state func() string
	}{
		{"client", func() string { return h.d1.BreakerState(h.bankingURL) }},
		{"metrics", func() string { return h.app.Metrics().BreakerState(h.bankingURL) }},
	}
	go func() {
		defer close(done)
		last := make([]string, len(sources))
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			for i, src := range sources {
				if s := src.state(); s != last[i] {
					changes = append(changes, breakerChange{At: time.Since(start), Phase: int(run.phase.Load()), State: s, Source: src.name})
					last[i] = s
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() []breakerChange {
		<-done
		return changes
	}
}

// resourceLevel is what a leak would make grow: goroutines and open sockets of this process.
type resourceLevel struct {
	Goroutines int
	Sockets    int // -1 where /proc/self/fd cannot be read
}

func (l resourceLevel) String() string {
	return fmt.Sprintf("%d goroutines, %d sockets", l.Goroutines, l.Sockets)
}

func currentLevel() resourceLevel {
	return resourceLevel{Goroutines: runtime.NumGoroutine(), Sockets: countSockets()}
}

// countSockets counts this process's open sockets (Linux).
func countSockets() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// within reports whether l is no higher than base plus the slack.
func (l resourceLevel) within(base resourceLevel) bool {
	return l.Goroutines <= base.Goroutines+goroutineSlack && l.Sockets <= base.Sockets+socketSlack
}

// quiesce closes the idle keep-alive connections on both sides of the dashboard: the virtual
// users' and the D1 client's. Connections in use are left alone, so a leak still shows.
func (h *loadHarness) quiesce(ctx context.Context, users *http.Transport) error {
	users.CloseIdleConnections()
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return h.front.dropIdle(dctx)
}

// settle waits, at most wait, for the process to come back to base (or, without base, to hold
// steady for a moment) and returns the level it reached.
func (h *loadHarness) settle(ctx context.Context, users *http.Transport, base *resourceLevel, wait time.Duration) (resourceLevel, error) {
	deadline := time.Now().Add(wait)
	prev := resourceLevel{Goroutines: -1}
	for {
		if err := h.quiesce(ctx, users); err != nil {
			return currentLevel(), err
		}
		time.Sleep(200 * time.Millisecond)
		lvl := currentLevel()
		switch {
		case base != nil && lvl.within(*base):
			return lvl, nil
		case base == nil && lvl == prev:
			return lvl, nil
		case time.Now().After(deadline) || ctx.Err() != nil:
			return lvl, nil
		}
		prev = lvl
	}
}

// phaseReport summarises one phase of a fault run.
type phaseReport struct {
	Name        string
	Report      drive.Report
	Columns     int
	Unavailable int
	Stale       int
	Unexplained int
	Problem     string
}

// phaseReports splits the observations by phase.
func phaseReports(obs []Observation, names []string) []phaseReport {
	out := make([]phaseReport, len(names))
	samples := make([][]drive.Sample, len(names))
	for _, o := range obs {
		if o.Phase < 0 || o.Phase >= len(names) {
			continue
		}
		samples[o.Phase] = append(samples[o.Phase], o.Sample)
		p := &out[o.Phase]
		p.Columns += o.Columns.Columns
		p.Unavailable += o.Columns.Unavailable
		p.Stale += o.Columns.Stale
		p.Unexplained += o.Columns.Unexplained
		if p.Problem == "" {
			p.Problem = o.Columns.Problem
		}
	}
	for i := range out {
		out[i].Name = names[i]
		out[i].Report = drive.Summarise(samples[i], 0)
	}
	return out
}

// faultChecks are the fault run's statements: searches and issuer records served in every
// phase, the breaker opened and closed again, every column explained, nothing leaked.
func faultChecks(phases []phaseReport, breaker []breakerChange, base, after resourceLevel, settleErr error) []check {
	var out []check
	for _, p := range phases[1:] {
		var searches, customers int
		for _, k := range p.Report.Kinds {
			if strings.HasPrefix(k.Kind, kindSearchPrefix) {
				searches += k.Count - k.Errors - k.Status5xx - k.Status4xx
			}
			if k.Kind == KindCustomer {
				customers += k.Count - k.Errors - k.Status5xx - k.Status4xx
			}
		}
		out = append(out, check{Name: "searches and issuer records served while D1 is " + p.Name,
			OK: searches > 0 && customers > 0, Detail: fmt.Sprintf("%d searches, %d customer pages answered 200", searches, customers)})
	}
	for _, src := range []string{"client", "metrics"} {
		opened, closedAfter := false, false
		var states []string
		for _, c := range breaker {
			if c.Source != src {
				continue
			}
			states = append(states, fmt.Sprintf("%s@%s(%s)", c.State, c.At.Round(100*time.Millisecond), phases[min(c.Phase, len(phases)-1)].Name))
			if c.State == "open" {
				opened = true
			}
			if opened && c.State == "closed" {
				closedAfter = true
			}
		}
		name := "D1 breaker opened and closed again"
		if src == "metrics" {
			name = "/metrics saw the D1 breaker open and close again"
		}
		out = append(out, check{Name: name, OK: opened && closedAfter, Detail: strings.Join(states, " -> ")})
	}
	var cols, unexplained, failed int
	problem := ""
	for _, p := range phases {
		cols += p.Columns
		unexplained += p.Unexplained
		if p.Name == "down" {
			failed = p.Unavailable + p.Stale
		}
		if problem == "" && p.Problem != "" {
			problem = ": " + p.Problem
		}
	}
	out = append(out, check{Name: "every directory column says what happened", OK: unexplained == 0 && failed > 0,
		Detail: fmt.Sprintf("%d columns, %d unexplained, %d unavailable or stale while down%s", cols, unexplained, failed, problem)})
	detail := fmt.Sprintf("start %s, after %s (slack %d goroutines, %d sockets)", base, after, goroutineSlack, socketSlack)
	if settleErr != nil {
		detail += "; " + settleErr.Error()
	}
	out = append(out, check{Name: "goroutines and open connections back to their starting level",
		OK: settleErr == nil && after.within(base), Detail: detail})
	return out
}
