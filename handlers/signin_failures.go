package handlers

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"ctpdesk/audit"
)

// failureWindow is how long failed sign-in callbacks from one address are counted into one
// audit event.
const failureWindow = time.Minute

// failureClients bounds how many addresses have an open window; failures from further
// addresses are counted together under overflowClient.
const failureClients = 10000

// overflowClient is the window key of the failures counted together when failureClients
// addresses already have a window.
const overflowClient = "(many addresses)"

// signInFailures coalesces failed sign-in callbacks that carry no verified identity (a
// replayed or forged callback, a missing pre-login, a bad state). Each address's first failure
// in a window is audited at once, as before; the rest of the window is counted, and when the
// window ends one event records how many there were and with which reason codes. A flood of
// forged callbacks then writes two events a minute per address instead of one per request,
// and the trail still says it happened. Failures of a person the provider vouched for (no
// role) are never coalesced: those name someone.
type signInFailures struct {
	mu      sync.Mutex
	open    map[string]*failureCount
	now     func() time.Time
	record  func(context.Context, audit.Event) error
	log     *slog.Logger
	flushMu sync.Mutex
}

// failureCount is one address's open window.
type failureCount struct {
	start   time.Time
	count   int
	reasons map[string]int
	// last is the latest counted failure's event, the template of the coalesced one.
	last audit.Event
}

func newSignInFailures(now func() time.Time, record func(context.Context, audit.Event) error, log *slog.Logger) *signInFailures {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &signInFailures{open: map[string]*failureCount{}, now: now, record: record, log: log}
}

// note counts a failed callback described by e (action login.failed, reason in its details)
// and reports whether the caller must audit e itself now: true for the first failure of an
// address's window, false when it was counted into the window.
func (f *signInFailures) note(ctx context.Context, e audit.Event) bool {
	key := clientKey(e.ClientIP)
	now := f.now()
	f.mu.Lock()
	w, ok := f.open[key]
	var due *failureCount
	if ok && now.Sub(w.start) >= failureWindow {
		// The window is over: its count is written now, and this failure opens the next.
		delete(f.open, key)
		if w.count > 0 {
			due = w
		}
		ok = false
	}
	first := !ok
	switch {
	case !ok && len(f.open) >= failureClients:
		key = overflowClient
		w, ok = f.open[key]
		if !ok {
			w = &failureCount{start: now, reasons: map[string]int{}}
			f.open[key] = w
		}
		first = false
		w.count++
		w.reasons[e.Details["reason"]]++
		w.last = e
	case !ok:
		f.open[key] = &failureCount{start: now, reasons: map[string]int{}}
	default:
		w.count++
		w.reasons[e.Details["reason"]]++
		w.last = e
	}
	f.mu.Unlock()
	if due != nil {
		f.write(ctx, key, due)
	}
	return first
}

// Flush writes the count of every window that has ended (all windows when all is set, as at
// shutdown) and forgets them.
func (f *signInFailures) Flush(ctx context.Context, all bool) {
	f.flushMu.Lock()
	defer f.flushMu.Unlock()
	now := f.now()
	f.mu.Lock()
	due := map[string]*failureCount{}
	for key, w := range f.open {
		if all || now.Sub(w.start) >= failureWindow {
			delete(f.open, key)
			if w.count > 0 {
				due[key] = w
			}
		}
	}
	f.mu.Unlock()
	for _, key := range slices.Sorted(maps.Keys(due)) {
		f.write(ctx, key, due[key])
	}
}

// write records one window's count. A failure is logged: the requests were refused already.
func (f *signInFailures) write(ctx context.Context, key string, w *failureCount) {
	e := w.last
	codes := slices.Sorted(maps.Keys(w.reasons))
	parts := make([]string, len(codes))
	for i, code := range codes {
		parts[i] = code + ":" + strconv.Itoa(w.reasons[code])
	}
	e.Details = map[string]string{
		"reason":         "coalesced",
		"count":          strconv.Itoa(w.count),
		"reasons":        strings.Join(parts, ","),
		"window_seconds": strconv.Itoa(int(failureWindow / time.Second)),
	}
	if key == overflowClient {
		e.ClientIP = ""
		e.Details["clients"] = "overflow"
	}
	if err := f.record(ctx, e); err != nil {
		f.log.Error("audit of coalesced sign-in failures failed", slog.Int("count", w.count), slog.String("error", err.Error()))
	}
}

// RunSignInFailureFlush writes ended windows of failed sign-ins every interval until ctx
// ends; FlushSignInFailures writes the rest at shutdown.
func (h *Handler) RunSignInFailureFlush(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.signInFailures.Flush(ctx, false)
		}
	}
}

// FlushSignInFailures writes every open window of failed sign-ins now, ended or not; the app
// calls it on shutdown, before the audit trail closes.
func (h *Handler) FlushSignInFailures(ctx context.Context) { h.signInFailures.Flush(ctx, true) }
