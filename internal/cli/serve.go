package cli

import (
	"context"
	"fmt"

	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
)

// runServe runs the dashboard in production. It refuses to start without every production
// setting and never starts the D1 sandbox or the development OpenID Provider.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "Run the dashboard in production; every setting comes from CTPDESK_* variables (see README.md).")
	withVariables(e, fs, config.ModeServe)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv, config.ModeServe)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	ln, err := app.Listen(&cfg)
	if err != nil {
		return err
	}
	defer ln.Close()
	a, err := app.New(ctx, cfg, app.Options{Version: Version, Stdout: e.stdout, Log: newLogger(e.stderr, cfg.LogLevel)})
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}
