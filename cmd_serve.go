package main

import (
	"context"
	"fmt"

	"ctpdesk/metrics"
)

// runServe runs the dashboard in production. It refuses to start without every production
// setting and never starts the D1 sandbox or the development OpenID Provider.
func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "serve", "Run the dashboard in production; every setting comes from CTPDESK_* variables (see README.md).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(env.getenv, ModeServe)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	ln, err := listen(&cfg)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: newLogger(env.stderr, cfg.LogLevel), env: env, metrics: metrics.New(version, nil)}
	a.onClose(func() error { ln.Close(); return nil })
	// Sign-in is never optional in production: without it no route would be protected.
	for _, step := range []func(context.Context) error{a.wireAudit, a.wireAuth, a.wireIssuer, a.wireD1} {
		if err := step(ctx); err != nil {
			a.close()
			return err
		}
	}
	return a.serve(ctx, ln)
}
