package scan

import (
	"sync/atomic"
	"time"
)

// Stage names of a chunk job, in the order a customer passes through them.
const (
	// StageIssuer reads the chunk's customers and cards from the issuer's records.
	StageIssuer = "issuer"
	// StageWait waits for a D1 slot (the rate cap, people's calls, a backoff).
	StageWait = "wait"
	// StageD1 is the D1 call through the client.
	StageD1 = "d1"
	// StageCompare is reconcile.Compare, the outcome and its digest.
	StageCompare = "compare"
	// StageStore writes results, latest scans, worklist items and chunk counts, and reads
	// what the chunk already stored.
	StageStore = "store"
)

// stageOrder lists the stages as Stages reports them.
var stageOrder = []string{StageIssuer, StageWait, StageD1, StageCompare, StageStore}

// StageNames lists the stages of a chunk job in order.
func StageNames() []string { return append([]string(nil), stageOrder...) }

// Stages is the time this process's chunk jobs spent in each stage, summed over its workers
// since the Scanner was built, and the customers they scanned.
type Stages struct {
	Time      map[string]time.Duration
	Customers int
}

// Total is the time of all stages together.
func (s Stages) Total() time.Duration {
	var t time.Duration
	for _, d := range s.Time {
		t += d
	}
	return t
}

// Share is stage's part of Total, between 0 and 1.
func (s Stages) Share(stage string) float64 {
	t := s.Total()
	if t <= 0 {
		return 0
	}
	return float64(s.Time[stage]) / float64(t)
}

// PerCustomer is stage's time per scanned customer.
func (s Stages) PerCustomer(stage string) time.Duration {
	if s.Customers == 0 {
		return 0
	}
	return s.Time[stage] / time.Duration(s.Customers)
}

// stageClock sums the stages' time across the workers of one process.
type stageClock struct {
	ns        [5]atomic.Int64
	customers atomic.Int64
}

// stage indexes, matching stageOrder.
const (
	stIssuer = iota
	stWait
	stD1
	stCompare
	stStore
)

// since adds the time since start to stage i and returns now, the next stage's start.
func (c *stageClock) since(i int, start time.Time) time.Time {
	now := time.Now()
	c.ns[i].Add(int64(now.Sub(start)))
	return now
}

func (c *stageClock) snapshot() Stages {
	out := Stages{Time: make(map[string]time.Duration, len(stageOrder)), Customers: int(c.customers.Load())}
	for i, name := range stageOrder {
		out.Time[name] = time.Duration(c.ns[i].Load())
	}
	return out
}

// Stages returns the time this process's scan jobs spent per stage so far.
func (s *Scanner) Stages() Stages { return s.clock.snapshot() }
