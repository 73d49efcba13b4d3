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

// faultTimings are the least lengths of the fault run's phases, and how long a phase may run
// past its length while it waits for its event.
type faultTimings struct {
	Warmup    time.Duration // healthy load before the starting level is measured
	Healthy   time.Duration
	Errors    time.Duration // D1 answers 20 % of requests with 503
	Down      time.Duration // D1 refuses every connection
	Slow      time.Duration // D1 answers, in 2 s
	Recovered time.Duration // D1 healthy again
	Event     time.Duration // how long past its length (and the D1 cache TTL) a phase waits for its event
	Settle    time.Duration // bounded wait for goroutines and sockets to come back
}

// fullFaultTimings is `make loadtest-fault`: at least 30 s of each fault, and a recovery that
// lasts until the breaker has closed.
var fullFaultTimings = faultTimings{
	Warmup: 10 * time.Second, Healthy: 15 * time.Second, Errors: 30 * time.Second,
	Down: 30 * time.Second, Slow: 30 * time.Second, Recovered: 40 * time.Second,
	Event: 2 * time.Minute, Settle: 30 * time.Second,
}

// Fault run parameters.
const (
	faultErrorRate   = 0.2
	faultSlowLatency = 2 * time.Second
	// minServedPerPhase is how many searches and how many customer pages each phase must
	// have answered before it may end: the claim is that they keep being served whatever D1
	// does, so every phase has to put it to the test, however slow the machine.
	minServedPerPhase = 5
	// sequencePoll is how often the sequence looks at its events. An open breaker stays
	// open for at least a second, so it cannot be missed.
	sequencePoll = 50 * time.Millisecond
	// Slack of the leak check: background goroutines that start on first use (a pool's
	// cleaner, a timer) may appear once; a leak grows with the thousands of failed calls.
	goroutineSlack = 10
	socketSlack    = 2
)

// faultPhase is one step of the fault sequence. It lasts at least Length, and until it has
// answered minServedPerPhase searches and customer pages and its event (Until) holds.
type faultPhase struct {
	Name   string
	Length time.Duration
	Apply  func(h *loadHarness) error
	// Until returns what the phase is still waiting for, or "" once its event holds. It
	// is called from the sequence's goroutine only; nil means no event beyond the answers.
	Until func(ctx context.Context) string
}

// faultPhases is the sequence: healthy, 20 % 503s, down, 2 s answers, healthy again. Phase 0
// of a run is the warm-up. The probe makes the healthy phase fetch a probe customer's
// comparison, the outage wait for the breaker to open and then show a stale and an unavailable
// comparison, and the recovery wait for the breaker to close.
func faultPhases(t faultTimings, d1Latency time.Duration, p *faultProbe) []faultPhase {
	healthy := func(h *loadHarness) error {
		h.front.setFailureRate(0)
		h.sandbox.SetFault(d1sandbox.Fault{Latency: d1Latency})
		return nil
	}
	return []faultPhase{
		{Name: "healthy", Length: t.Healthy, Apply: healthy, Until: p.healthy},
		{Name: "503 x 20%", Length: t.Errors, Apply: func(h *loadHarness) error {
			h.front.setFailureRate(faultErrorRate)
			return nil
		}},
		{Name: "down", Length: t.Down, Apply: func(h *loadHarness) error {
			h.front.setFailureRate(0)
			h.front.down()
			return nil
		}, Until: p.down},
		{Name: "2s answers", Length: t.Slow, Apply: func(h *loadHarness) error {
			h.sandbox.SetFault(d1sandbox.Fault{Latency: faultSlowLatency})
			return h.front.up()
		}},
		{Name: "recovered", Length: t.Recovered, Apply: healthy, Until: p.recovered},
	}
}

// faultProbe is what the fault sequence does itself so that the outage's columns are there by
// construction, not by the timing of the load: the virtual users never open the probe
// customers, so the harness knows what D1's cache holds for them and since when.
type faultProbe struct {
	run     *Run
	client  *http.Client
	breaker func() string // the D1 client's breaker state for the banking API
	ttl     time.Duration // the D1 client's cache TTL
	// cached is fetched while D1 is healthy and again while it is down (stale by then);
	// uncached is first fetched while D1 is down (unavailable).
	cached, uncached string

	cachedAt           time.Time // when the healthy fetch of cached had its answer
	opened             bool
	stale, unavailable bool
}

func newFaultProbe(h *loadHarness, run *Run, client *http.Client) *faultProbe {
	ids := run.probeIDs()
	return &faultProbe{
		run: run, client: client, ttl: h.app.Config().D1.Client.CacheTTL,
		breaker: func() string { return h.d1.BreakerState(h.bankingURL) },
		cached:  ids[0], uncached: ids[1],
	}
}

// healthy fetches the cached probe's comparison once, expecting every column answered.
func (p *faultProbe) healthy(ctx context.Context) string {
	if !p.cachedAt.IsZero() {
		return ""
	}
	o := p.run.Probe(ctx, p.client, p.cached)
	if c := o.Columns; o.Err != nil || o.Status != http.StatusOK || c.Columns == 0 || c.Unavailable+c.Stale+c.Unexplained > 0 {
		return fmt.Sprintf("a comparison of probe customer %s with every column answered (last: %s)", p.cached, probeOutcome(o))
	}
	p.cachedAt = time.Now()
	return ""
}

// down waits for the breaker to open, then for the cached probe's entry to outlive the cache
// TTL, then fetches both probes: the cached one must come back stale, the other unavailable.
func (p *faultProbe) down(ctx context.Context) string {
	if !p.opened {
		if s := p.breaker(); s != "open" {
			return "the D1 client's breaker to report open (it reports " + s + ")"
		}
		p.opened = true
	}
	if age := time.Since(p.cachedAt); age <= p.ttl {
		return fmt.Sprintf("the cached comparison of probe customer %s to outlive the D1 cache TTL %s (it is %s old)", p.cached, p.ttl, age.Round(time.Millisecond))
	}
	if !p.stale {
		o := p.run.Probe(ctx, p.client, p.cached)
		if p.stale = o.Err == nil && o.Status == http.StatusOK && o.Columns.Stale > 0; !p.stale {
			return fmt.Sprintf("a stale column in the comparison of probe customer %s, cached while D1 was healthy (last: %s)", p.cached, probeOutcome(o))
		}
	}
	if !p.unavailable {
		o := p.run.Probe(ctx, p.client, p.uncached)
		if p.unavailable = o.Err == nil && o.Status == http.StatusOK && o.Columns.Unavailable > 0; !p.unavailable {
			return fmt.Sprintf("an unavailable column in the comparison of probe customer %s, never fetched before (last: %s)", p.uncached, probeOutcome(o))
		}
	}
	return ""
}

// recovered waits for the breaker to close again.
func (p *faultProbe) recovered(context.Context) string {
	if s := p.breaker(); s != "closed" {
		return "the D1 client's breaker to report closed (it reports " + s + ")"
	}
	return ""
}

// probeOutcome describes a probe's answer for an error message.
func probeOutcome(o Observation) string {
	if o.Err != nil {
		return o.Err.Error()
	}
	c := o.Columns
	return fmt.Sprintf("HTTP %d, %d columns, %d unavailable, %d stale, %d unexplained", o.Status, c.Columns, c.Unavailable, c.Stale, c.Unexplained)
}

// runFaultSequence applies each phase in turn and marks the run with its number. A phase ends
// once its length has passed, it has answered minServedPerPhase searches and customer pages,
// and its event holds; one that waits longer than its length plus wait fails the sequence
// with what it was waiting for.
func runFaultSequence(ctx context.Context, h *loadHarness, run *Run, phases []faultPhase, wait time.Duration) error {
	for i, p := range phases {
		if err := p.Apply(h); err != nil {
			return fmt.Errorf("loadtest: fault phase %s: %w", p.Name, err)
		}
		n := i + 1
		run.phase.Store(int32(n))
		start := time.Now()
		for {
			missing := ""
			if p.Until != nil {
				missing = p.Until(ctx)
			}
			if s := run.Served(n); missing == "" && (s.Searches < minServedPerPhase || s.Customers < minServedPerPhase) {
				missing = fmt.Sprintf("%d searches and %d customer pages answered (it has %d and %d)",
					minServedPerPhase, minServedPerPhase, s.Searches, s.Customers)
			}
			elapsed := time.Since(start)
			if missing == "" && elapsed >= p.Length {
				break
			}
			if elapsed > p.Length+wait {
				return fmt.Errorf("loadtest: fault phase %q waited %s for %s", p.Name, elapsed.Round(time.Second), missing)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("loadtest: fault phase %q interrupted: %w", p.Name, ctx.Err())
			case <-time.After(sequencePoll):
			}
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
		poll := func() {
			for i, src := range sources {
				if s := src.state(); s != last[i] {
					changes = append(changes, breakerChange{At: time.Since(start), Phase: int(run.phase.Load()), State: s, Source: src.name})
					last[i] = s
				}
			}
		}
		for {
			poll()
			select {
			case <-ctx.Done():
				// One last look: the sequence may have ended the moment the breaker closed.
				poll()
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
	var cols, unexplained, staleDown, unavailableDown int
	problem := ""
	for _, p := range phases {
		cols += p.Columns
		unexplained += p.Unexplained
		if p.Name == "down" {
			staleDown, unavailableDown = p.Stale, p.Unavailable
		}
		if problem == "" && p.Problem != "" {
			problem = ": " + p.Problem
		}
	}
	out = append(out, check{Name: "every directory column says what happened", OK: unexplained == 0 && cols > 0,
		Detail: fmt.Sprintf("%d columns, %d unexplained%s", cols, unexplained, problem)})
	out = append(out, check{Name: "the outage showed stale and unavailable columns", OK: staleDown > 0 && unavailableDown > 0,
		Detail: fmt.Sprintf("%d stale, %d unavailable while down", staleDown, unavailableDown)})
	detail := fmt.Sprintf("start %s, after %s (slack %d goroutines, %d sockets)", base, after, goroutineSlack, socketSlack)
	if settleErr != nil {
		detail += "; " + settleErr.Error()
	}
	out = append(out, check{Name: "goroutines and open connections back to their starting level",
		OK: settleErr == nil && after.within(base), Detail: detail})
	return out
}
