package cli

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"path/filepath"

	"ctpdesk/d1sandbox"
	"ctpdesk/internal/config"
	"ctpdesk/internal/devstack"
)

// runSandbox runs the D1 sandbox alone: the token endpoint and get-profiles over the same
// synthetic portfolio `ctpdesk dev` seeds (same CTPDESK_DEV_SEED and CTPDESK_DEV_CUSTOMERS),
// or over the issuer database when CTPDESK_ISSUER_DATABASE_URL is set.
func runSandbox(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sandbox", "Run the D1 sandbox alone (token endpoint and Click to Pay get profiles, with fault injection).")
	addr := fs.String("addr", "", "listen address (default $CTPDESK_SANDBOX_ADDR or 127.0.0.1:8090)")
	issuerID := fs.String("issuer-id", "", "the issuer id served, exactly 10 characters (default $CTPDESK_D1_ISSUER_ID or "+config.DevIssuerID+")")
	publicKey := fs.String("public-key", "", "PEM public key trusted for assertions; without it a throwaway key is generated")
	kid := fs.String("kid", "", "the kid of --public-key")
	keyDir := fs.String("key-dir", "", "where a generated key pair is written (default $CTPDESK_DATA_DIR/sandbox)")
	fault := fs.String("fault", "", "global fault, e.g. latency=200ms,status=503,times=3 (default $CTPDESK_SANDBOX_FAULT)")
	consumerFaults := fs.String("consumer-faults", "", "per-consumer faults, e.g. ID=hang;ID2=status=429,retry-after=2s (default $CTPDESK_SANDBOX_CONSUMER_FAULTS)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this PEM certificate")
	tlsKey := fs.String("tls-key", "", "the private key of --tls-cert")
	clientCA := fs.String("client-ca", "", "require client certificates signed by this PEM CA (mutual TLS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sandbox: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := config.Load(e.getenv, config.ModeDev)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	opts := devstack.SandboxOptions{
		Addr: cfg.D1.SandboxAddr, IssuerID: cfg.D1.Client.IssuerID, Seed: cfg.Issuer.DevSeed,
		Customers: cfg.Issuer.DevCustomers, IssuerDBURL: cfg.IssuerDBURL.Reveal(),
		Fault: cfg.D1.SandboxFault, ConsumerFaults: cfg.D1.SandboxConsumerFaults,
		KeyDir: filepath.Join(cfg.DataDir, "sandbox"), Log: newLogger(e.stderr, cfg.LogLevel),
	}
	if *addr != "" {
		opts.Addr = *addr
	}
	if *issuerID != "" {
		opts.IssuerID = *issuerID
	}
	if *keyDir != "" {
		opts.KeyDir = *keyDir
	}
	if *fault != "" {
		if opts.Fault, err = d1sandbox.ParseFault(*fault); err != nil {
			return fmt.Errorf("--fault: %w", err)
		}
	}
	if *consumerFaults != "" {
		if opts.ConsumerFaults, err = d1sandbox.ParseConsumerFaults(*consumerFaults); err != nil {
			return fmt.Errorf("--consumer-faults: %w", err)
		}
	}
	if (*publicKey == "") != (*kid == "") {
		return errors.New("sandbox: give --public-key and --kid together")
	}
	if *publicKey != "" {
		key, err := devstack.ReadPublicKey(*publicKey)
		if err != nil {
			return err
		}
		opts.Keys = map[string]*ecdsa.PublicKey{*kid: key}
	}
	if *tlsCert != "" || *tlsKey != "" || *clientCA != "" {
		if opts.TLS, err = d1sandbox.ServerTLSConfig(*tlsCert, *tlsKey, *clientCA); err != nil {
			return err
		}
	}
	sb, err := devstack.StartSandbox(ctx, opts)
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(e.stdout, "ctpdesk sandbox: listening on %s\n", sb.URL)
	fmt.Fprintf(e.stdout, "  issuer id:   %s\n  kid:         %s\n", sb.IssuerID(), sb.KeyID)
	if sb.PublicKeyFile != "" {
		fmt.Fprintf(e.stdout, "  public key:  %s\n  private key: %s (throwaway, for CTPDESK_D1_SIGNING_KEY_FILE)\n", sb.PublicKeyFile, sb.PrivateKeyFile)
	} else {
		fmt.Fprintf(e.stdout, "  public key:  %s (given)\n", *publicKey)
	}
	fmt.Fprintf(e.stdout, "  CTPDESK_D1_AUTHZ_URL=%s/authz/v1 CTPDESK_D1_BANKING_URL=%s/banking/v1\n", sb.URL, sb.URL)
	<-ctx.Done()
	return nil
}
