package main

import (
	"context"
	"fmt"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// wireD1 builds the D1 client and hands it to the comparison page. In dev, unless
// CTPDESK_D1_* point at a real D1, it first starts the D1 sandbox on CTPDESK_SANDBOX_ADDR over
// the issuer database opened by wireIssuer (run it after wireIssuer) and gives the client the
// sandbox's throwaway key in memory.
func (a *app) wireD1(ctx context.Context) error {
	cfg := a.cfg.D1.Client
	if a.cfg.Mode == ModeDev && cfg.AuthzURL == "" && cfg.BankingURL == "" {
		portfolio, _ := a.deps.Customers.(d1sandbox.PortfolioSource)
		sb, err := startSandbox(ctx, sandboxStart{
			Addr: a.cfg.D1.SandboxAddr, IssuerID: cfg.IssuerID, Seed: a.cfg.Issuer.DevSeed,
			Customers: a.cfg.Issuer.DevCustomers, Portfolio: portfolio,
			Fault: a.cfg.D1.SandboxFault, ConsumerFaults: a.cfg.D1.SandboxConsumerFaults,
			Log: a.log.With("component", "d1-sandbox"),
		})
		if err != nil {
			return fmt.Errorf("CTPDESK_SANDBOX_ADDR: %w", err)
		}
		a.onClose(func() error { sb.Close(); return nil })
		if a.dev != nil {
			a.dev.SandboxURL = sb.URL
		}
		cfg = sandboxClientConfig(cfg, sb)
		fmt.Fprintf(a.env.stdout, "ctpdesk dev: D1 sandbox at %s (issuer %s, kid %s)\n", sb.URL, sb.IssuerID(), sb.KeyID)
	}
	hc, err := d1.NewHTTPClient(cfg)
	if err != nil {
		return fmt.Errorf("D1 client: %w", err)
	}
	client, err := d1.New(cfg, hc, d1.WithLogger(a.log.With("component", "d1")), d1.WithMetrics(a.metrics))
	if err != nil {
		return fmt.Errorf("D1 client: %w", err)
	}
	a.deps.Profiles = client
	return nil
}
