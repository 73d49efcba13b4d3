package main

import (
	"context"
	"fmt"
	"os"
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
	ln, err := listen(&cfg)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: newLogger(env.stderr, cfg.LogLevel), env: env, dev: &devParts{}}
	a.onClose(func() error { ln.Close(); return nil })
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("CTPDESK_DATA_DIR %s: %w", cfg.DataDir, err)
	}
	// Each step below starts one embedded component or connects one client; the order matters
	// where a later one needs an earlier one's address or key. The steps live in wire_*.go.
	steps := []func(context.Context) error{}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			a.close()
			return err
		}
	}
	fmt.Fprintf(env.stdout, "ctpdesk dev: dashboard at %s\n", a.cfg.PublicURL)
	return a.serve(ctx, ln)
}
