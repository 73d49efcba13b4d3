// Package browsertest runs real headless Chromium for ctpdesk's end-to-end tests through
// chromedp. It starts the browser with the flags this environment needs, records console
// errors, uncaught exceptions and Content-Security-Policy violations, and saves screenshots to
// artifacts/ at the repository root.
//
// Without Chromium the tests skip, except in CI (CI set to any value), where a missing browser
// fails them.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Browser is one headless Chromium with one tab.
type Browser struct {
	Ctx context.Context
	tb  testing.TB

	mu       sync.Mutex
	problems []string
}

// cspProbe runs in every page before its own scripts (scripts added through the DevTools
// protocol are exempt from the page's CSP) and records each CSP violation the page raises.
const cspProbe = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`

// ExecPath finds Chromium: $CHROMIUM, then the usual names on PATH.
func ExecPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// inCI reports whether this is a CI run. CI services set CI to "true", "1" or another word;
// any value counts, so no spelling lets a missing browser turn the browser tests into skips.
func inCI() bool {
	return os.Getenv("CI") != ""
}

// New starts a browser for tb and closes it when tb ends. The whole test gets at most timeout.
func New(tb testing.TB, timeout time.Duration) *Browser {
	tb.Helper()
	path := ExecPath()
	if path == "" {
		if inCI() {
			tb.Fatal("browsertest: Chromium is required in CI but was not found (install Debian's chromium)")
		}
		tb.Skip("browsertest: Chromium not installed; set CI (to any value) to make this a failure")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1366, 900),
		chromedp.UserDataDir(tb.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{Ctx: ctx, tb: tb}
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	// The first call starts the browser; it must not carry the test's timeout context's
	// cancellation of the allocator, so it runs on ctx, which lives until cleanup.
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		tb.Fatalf("browsertest: start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		tb.Fatalf("browsertest: install CSP probe: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.record(fmt.Sprintf("%s (%s %s:%d)", m.String(), m.Source, m.URL, m.Line))
			}
		}
	}()
	return b
}

func (b *Browser) record(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// Do runs chromedp actions in the tab and fails the test on error, with a screenshot.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.Screenshot("failure-" + sanitize(b.tb.Name()))
		b.tb.Fatalf("browsertest: %v", err)
	}
}

// Problems returns the console errors, exceptions and CSP violations seen so far, the
// violations read from the current page.
func (b *Browser) Problems() []string {
	b.tb.Helper()
	csp, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`window.__cspViolations || []`))
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]string(nil), b.problems...)
	for _, v := range csp {
		out = append(out, "CSP violation: "+v)
	}
	return out
}

// AssertClean fails the test when the page raised any console error, exception or CSP
// violation.
func (b *Browser) AssertClean() {
	b.tb.Helper()
	if p := b.Problems(); len(p) > 0 {
		b.tb.Errorf("browser reported %d problem(s):\n%s", len(p), strings.Join(p, "\n"))
	}
}

// Screenshot saves a full-page PNG as artifacts/NAME.png at the repository root and returns
// its path.
func (b *Browser) Screenshot(name string) string {
	b.tb.Helper()
	buf, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.tb.Logf("browsertest: screenshot %s: %v", name, err)
		return ""
	}
	dir := ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.tb.Logf("browsertest: %v", err)
		return ""
	}
	p := filepath.Join(dir, sanitize(name)+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.tb.Logf("browsertest: %v", err)
		return ""
	}
	return p
}

// ArtifactsDir is artifacts/ at the module root, found by walking up to go.mod.
func ArtifactsDir() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "artifacts")
		}
	}
	return filepath.Join(dir, "artifacts")
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}
