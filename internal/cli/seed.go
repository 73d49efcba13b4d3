package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
)

// runSeed writes a deterministic synthetic portfolio into an empty issuer database, for
// development, demos, tests and benchmarks. The same seed always writes the same rows.
func runSeed(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "seed", "Write a deterministic synthetic customer portfolio into an empty issuer database.")
	customers := fs.Int("customers", 20000, "how many customers to generate (1 to 99,999,999)")
	seed := fs.Int64("seed", 1, "the generator seed: the same seed always gives the same portfolio")
	db := fs.String("db", "", "the issuer database URL, sqlite:PATH or postgres://… (default $CTPDESK_ISSUER_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected argument %q", fs.Arg(0))
	}
	url := *db
	if url == "" {
		url = e.getenv("CTPDESK_ISSUER_DATABASE_URL")
	}
	if url == "" {
		return errors.New("seed: give the database with --db or CTPDESK_ISSUER_DATABASE_URL")
	}
	start := time.Now()
	if err := issuerdb.Seed(ctx, url, *customers, *seed); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(e.stdout, "ctpdesk seed: %d customers (seed %d) written to %s in %s\n",
		*customers, *seed, config.RedactURL(url), time.Since(start).Round(time.Millisecond))
	return nil
}
