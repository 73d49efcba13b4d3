package cli

import (
	"context"
	"fmt"

	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
	"ctpdesk/internal/devstack"
)

// runDev starts the whole dashboard with everything embedded: the issuer database seeded with
// synthetic customers, the D1 sandbox and the development OpenID Provider on loopback ports.
// It needs no configuration at all.
func runDev(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "dev", "Run the whole dashboard with everything embedded on loopback; no set-up needed.")
	withVariables(e, fs, config.ModeDev)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv, config.ModeDev)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(e.stderr, cfg.LogLevel)
	ln, err := app.Listen(&cfg)
	if err != nil {
		return err
	}
	defer ln.Close()
	stack, err := devstack.Start(ctx, cfg, e.stdout, log)
	if err != nil {
		return err
	}
	defer stack.Close()
	a, err := app.New(ctx, stack.Config, app.Options{Version: Version, Stdout: e.stdout, Log: log})
	if err != nil {
		return err
	}
	return a.Serve(ctx, ln)
}
