package pgtest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestInCIAcceptsAnyValue(t *testing.T) {
	for value, want := range map[string]bool{"": false, "true": true, "1": true, "yes": true, "TRUE": true} {
		t.Setenv("CI", value)
		if got := inCI(); got != want {
			t.Errorf("CI=%q: inCI() = %v, want %v", value, got, want)
		}
	}
}

// Without a server, every spelling of CI turns the PostgreSQL tests into failures; without CI
// they skip.
func TestMissingServerFailsOnlyInCI(t *testing.T) {
	t.Setenv(EnvVar, "")
	for _, ci := range []string{"true", "1", "yes"} {
		t.Setenv("CI", ci)
		if tb := runGuard(func(tb testing.TB) { Configured(tb) }); !strings.Contains(tb.fatal, "must run in CI") {
			t.Errorf("CI=%q: Configured did not fail the test (fatal %q, skip %q)", ci, tb.fatal, tb.skip)
		}
		if tb := runGuard(func(tb testing.TB) { URL(tb, "x") }); !strings.Contains(tb.fatal, "must run in CI") {
			t.Errorf("CI=%q: URL did not fail the test (fatal %q, skip %q)", ci, tb.fatal, tb.skip)
		}
	}
	t.Setenv("CI", "")
	var configured bool
	if tb := runGuard(func(tb testing.TB) { configured = Configured(tb) }); tb.fatal != "" || configured {
		t.Errorf("outside CI: Configured = %v, fatal %q; want false and no failure", configured, tb.fatal)
	}
	if tb := runGuard(func(tb testing.TB) { URL(tb, "x") }); tb.skip == "" || tb.fatal != "" {
		t.Errorf("outside CI: URL gave fatal %q, skip %q; want a skip", tb.fatal, tb.skip)
	}
}

// guardTB records the Fatal or Skip a guard calls and, like testing.T, stops the goroutine there.
// Any other testing.TB method panics on the nil embedded interface.
type guardTB struct {
	testing.TB
	fatal, skip string
}

func (g *guardTB) Helper()           {}
func (g *guardTB) Fatal(args ...any) { g.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (g *guardTB) Skip(args ...any)  { g.skip = fmt.Sprint(args...); runtime.Goexit() }

func runGuard(f func(testing.TB)) *guardTB {
	g := &guardTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(g)
	}()
	<-done
	return g
}
