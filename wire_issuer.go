package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"ctpdesk/handlers"
	"ctpdesk/issuerdb"
)

// wireIssuer opens the issuer's records and hands them to the customer pages. Production
// reads the issuer's replica read-only. Dev keeps a SQLite file in the data directory,
// seeded with CTPDESK_DEV_CUSTOMERS synthetic customers on first start and reused after.
func (a *app) wireIssuer(ctx context.Context) error {
	url := a.cfg.IssuerDBURL.Reveal()
	if a.cfg.Mode == ModeDev {
		if url == "" {
			url = "sqlite:" + filepath.Join(a.cfg.DataDir, devIssuerDBFile)
		}
		start := time.Now()
		seeded, err := issuerdb.EnsureSeeded(ctx, url, a.cfg.Issuer.DevCustomers, a.cfg.Issuer.DevSeed)
		if err != nil {
			return fmt.Errorf("issuer database %s: %w", redactURL(url), err)
		}
		if seeded {
			fmt.Fprintf(a.env.stdout, "ctpdesk dev: seeded %d synthetic customers into %s in %s\n",
				a.cfg.Issuer.DevCustomers, redactURL(url), time.Since(start).Round(time.Millisecond))
		}
	}
	db, err := issuerdb.Open(ctx, url, issuerdb.Options{ReadOnly: true, PhoneRegion: a.cfg.Issuer.PhoneRegion})
	if err != nil {
		return fmt.Errorf("issuer database %s: %w", redactURL(url), err)
	}
	a.onClose(db.Close)
	a.deps.Customers = db
	a.deps.Ready = append(a.deps.Ready, handlers.ReadyCheck{Name: "issuer database", Probe: db.Ping})
	return nil
}
