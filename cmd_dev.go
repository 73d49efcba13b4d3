package main

import (
	"context"
	"fmt"
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
	a := &app{cfg: cfg, log: newLogger(env.stderr, cfg.LogLevel), env: env}
	a.onClose(func() error { ln.Close(); return nil })
	fmt.Fprintf(env.stdout, "ctpdesk dev: dashboard at %s\n", cfg.PublicURL)
	return a.serve(ctx, ln)
}
