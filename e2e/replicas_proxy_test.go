package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// replica is one `ctpdesk serve` process of the replicas test.
type replica struct {
	name   string
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT, read from its "listening on" line
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
	once   sync.Once
	err    error
}

// start runs the binary with env and waits until it prints where it listens.
func (r *replica) start(ctx context.Context, bin string, env []string) error {
	r.stdout, r.stderr, r.done = &syncBuffer{}, &syncBuffer{}, make(chan error, 1)
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(r.stdout.String()); m != nil {
			r.url = m[1]
			return nil
		}
		select {
		case err := <-r.done:
			r.once.Do(func() { r.err = err })
			return fmt.Errorf("%s exited before serving: %v\nstderr:\n%s", r.name, err, r.stderr)
		case <-deadline:
			return fmt.Errorf("%s did not serve within 60s\nstderr:\n%s", r.name, r.stderr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// terminate sends SIGTERM and waits for a clean exit, as an orchestrator does.
func (r *replica) terminate() error {
	r.once.Do(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case r.err = <-r.done:
		case <-time.After(30 * time.Second):
			_ = r.cmd.Process.Kill()
			r.err = errors.New("no exit within 30s of SIGTERM")
		}
	})
	return r.err
}

// stop ends the process whatever its state; a replica the test killed on purpose is not an
// error.
func (r *replica) stop(t testing.TB) {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.terminate()
	if t.Failed() {
		t.Logf("%s stderr:\n%s", r.name, r.stderr)
	}
}

// roundRobin is the test's load balancer: it sends each request to the next live replica and
// takes a replica out of the rotation the first time reaching it fails, answering that request
// 502 itself (as a load balancer without retries does).
type roundRobin struct {
	backends []*backend
	next     atomic.Uint64
	bad      atomic.Int64
}

type backend struct {
	name     string
	proxy    *httputil.ReverseProxy
	dead     atomic.Bool
	deadAt   atomic.Int64 // unix nanos of the first failure
	killedAt atomic.Int64 // unix nanos the test killed it, 0 if never
	before   atomic.Int64 // answers relayed before any replica was killed
	after    atomic.Int64 // answers relayed after
}

func (p *roundRobin) setBackends(t *testing.T, rs []*replica) {
	for _, r := range rs {
		u, err := url.Parse(r.url)
		if err != nil {
			t.Fatal(err)
		}
		b := &backend{name: r.name}
		b.proxy = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.SetXForwarded()
			},
			ModifyResponse: func(*http.Response) error {
				if p.anyKilled() {
					b.after.Add(1)
				} else {
					b.before.Add(1)
				}
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				if b.dead.CompareAndSwap(false, true) {
					b.deadAt.Store(time.Now().UnixNano())
				}
				p.bad.Add(1)
				w.Header().Set("X-Proxy-Error", b.name)
				w.WriteHeader(http.StatusBadGateway)
			},
		}
		p.backends = append(p.backends, b)
	}
}

func (p *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := uint64(len(p.backends))
	for range n {
		b := p.backends[p.next.Add(1)%n]
		if !b.dead.Load() {
			b.proxy.ServeHTTP(w, r)
			return
		}
	}
	p.bad.Add(1)
	http.Error(w, "no replica left", http.StatusBadGateway)
}

func (p *roundRobin) find(name string) *backend {
	for _, b := range p.backends {
		if b.name == name {
			return b
		}
	}
	return nil
}

func (p *roundRobin) noteKill(name string) { p.find(name).killedAt.Store(time.Now().UnixNano()) }

func (p *roundRobin) anyKilled() bool {
	for _, b := range p.backends {
		if b.killedAt.Load() != 0 {
			return true
		}
	}
	return false
}

// skippedAt is when the proxy took the replica out of the rotation (zero if it never did).
func (p *roundRobin) skippedAt(name string) time.Time {
	if ns := p.find(name).deadAt.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

func (p *roundRobin) badGateways() int               { return int(p.bad.Load()) }
func (p *roundRobin) servedBeforeKill(n string) bool { return p.find(n).before.Load() > 0 }
func (p *roundRobin) servedAfterKill(n string) bool  { return p.find(n).after.Load() > 0 }

func (p *roundRobin) stats() string {
	var parts []string
	for _, b := range p.backends {
		parts = append(parts, fmt.Sprintf("%s %d before the kill, %d after", b.name, b.before.Load(), b.after.Load()))
	}
	return strings.Join(parts, "; ")
}
