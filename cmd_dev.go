package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"ctpdesk/metrics"
)

// runDev starts the whole dashboard with everything embedded: the issuer database seeded with
// synthetic customers, the D1 sandbox and the development OpenID Provider on loopback ports.
// It needs no configuration at all.
func runDev(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "dev", "Run the whole dashboard with everything embedded on loopback; no set-up needed.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(env.getenv, ModeDev)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	a, ln, err := newDevApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "ctpdesk dev: dashboard at %s\n", a.cfg.PublicURL)
	return a.serve(ctx, ln)
}

// newDevApp binds the dashboard's address and runs every dev-mode wiring step, returning the
// app ready to serve on ln. runDev serves it; the load test (cmd_loadtest.go) builds the same
// app in-process so that it can reach the session store and the audit trail it drives.
// On error everything already started is closed.
func newDevApp(ctx context.Context, env *environment, cfg Config) (*app, net.Listener, error) {
	ln, err := listen(&cfg)
	if err != nil {
		return nil, nil, err
	}
	a := &app{cfg: cfg, log: newLogger(env.stderr, cfg.LogLevel), env: env, metrics: metrics.New(version, nil), dev: &devParts{}}
	a.onClose(func() error { ln.Close(); return nil })
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		a.close()
		return nil, nil, fmt.Errorf("CTPDESK_DATA_DIR %s: %w", cfg.DataDir, err)
	}
	// Each step below starts one embedded component or connects one client; the order matters
	// where a later one needs an earlier one's address or key. The steps live in wire_*.go.
	steps := []func(context.Context) error{
		a.wireAudit,  // sign-in and data access are recorded through it
		a.wireDevIDP, // before wireAuth: it names the issuer the relying party discovers
		a.wireAuth,
		a.wireIssuer, // the customer records, seeded on first start
		a.wireD1,     // after wireIssuer: the D1 sandbox serves those records
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			a.close()
			return nil, nil, err
		}
	}
	return a, ln, nil
}
