package main

import (
	"context"
	"fmt"
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
	a := &app{cfg: cfg, log: newLogger(env.stderr, cfg.LogLevel), env: env}
	a.onClose(func() error { ln.Close(); return nil })
	return a.serve(ctx, ln)
}
