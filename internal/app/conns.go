package app

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connTracker follows the state of the server's connections so shutdown can tell a connection
// that carries a request from one a client opened and never used. Reverse proxies and pooling
// HTTP clients often dial a spare connection and keep it unused; net/http's Shutdown waits five
// seconds before treating such a connection as idle, which would hold every stop for that long.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]connInfo
}

type connInfo struct {
	state http.ConnState
	since time.Time
}

func newConnTracker() *connTracker { return &connTracker{conns: map[net.Conn]connInfo{}} }

// hook is the server's ConnState callback.
func (t *connTracker) hook(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
	default:
		t.conns[c] = connInfo{state: s, since: time.Now()}
	}
}

// closeUnused closes the connections that have been open for at least minAge without sending
// a single byte of a request, and returns how many it closed.
func (t *connTracker) closeUnused(minAge time.Duration) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for c, info := range t.conns {
		if info.state == http.StateNew && time.Since(info.since) >= minAge {
			c.Close()
			delete(t.conns, c)
			n++
		}
	}
	return n
}

// active counts the connections with a request in flight.
func (t *connTracker) active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, info := range t.conns {
		if info.state == http.StateActive {
			n++
		}
	}
	return n
}
