package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/issuerdb"
)

// runSandbox runs the D1 sandbox alone: the token endpoint and get-profiles over the same
// synthetic portfolio `ctpdesk dev` seeds (same CTPDESK_DEV_SEED and CTPDESK_DEV_CUSTOMERS),
// or over the issuer database when CTPDESK_ISSUER_DATABASE_URL is set.
func runSandbox(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "sandbox", "Run the D1 sandbox alone (token endpoint and Click to Pay get profiles, with fault injection).")
	addr := fs.String("addr", "", "listen address (default $CTPDESK_SANDBOX_ADDR or 127.0.0.1:8090)")
	issuerID := fs.String("issuer-id", "", "the issuer id served, exactly 10 characters (default $CTPDESK_D1_ISSUER_ID or "+devIssuerID+")")
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
	cfg, err := loadConfig(env.getenv, ModeDev)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	opts := sandboxStart{
		Addr: cfg.D1.SandboxAddr, IssuerID: cfg.D1.Client.IssuerID, Seed: cfg.Issuer.DevSeed,
		Customers: cfg.Issuer.DevCustomers, IssuerDBURL: cfg.IssuerDBURL.Reveal(),
		Fault: cfg.D1.SandboxFault, ConsumerFaults: cfg.D1.SandboxConsumerFaults,
		KeyDir: filepath.Join(cfg.DataDir, "sandbox"), Log: newLogger(env.stderr, cfg.LogLevel),
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
		key, err := readPublicKey(*publicKey)
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
	sb, err := startSandbox(ctx, opts)
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(env.stdout, "ctpdesk sandbox: listening on %s\n", sb.URL)
	fmt.Fprintf(env.stdout, "  issuer id:   %s\n  kid:         %s\n", sb.IssuerID(), sb.KeyID)
	if sb.PublicKeyFile != "" {
		fmt.Fprintf(env.stdout, "  public key:  %s\n  private key: %s (throwaway, for CTPDESK_D1_SIGNING_KEY_FILE)\n", sb.PublicKeyFile, sb.PrivateKeyFile)
	} else {
		fmt.Fprintf(env.stdout, "  public key:  %s (given)\n", *publicKey)
	}
	fmt.Fprintf(env.stdout, "  CTPDESK_D1_AUTHZ_URL=%s/authz/v1 CTPDESK_D1_BANKING_URL=%s/banking/v1\n", sb.URL, sb.URL)
	<-ctx.Done()
	return nil
}

// sandboxStart is what startSandbox needs; `ctpdesk dev` fills it from its own configuration.
type sandboxStart struct {
	Addr      string
	IssuerID  string
	Seed      int64
	Customers int
	// Portfolio, when set, is served as is (`ctpdesk dev` passes its open issuer database).
	// Otherwise IssuerDBURL is opened read-only, or, when empty, the generator's first
	// Customers customers of Seed are served.
	Portfolio   d1sandbox.PortfolioSource
	IssuerDBURL string
	// Keys are the trusted public keys; empty means generate one and write it to KeyDir.
	Keys           map[string]*ecdsa.PublicKey
	KeyDir         string
	Fault          d1sandbox.Fault
	ConsumerFaults map[string]d1sandbox.Fault
	TLS            *tls.Config
	Log            *slog.Logger
}

// runningSandbox is a started sandbox. Key is the generated private key (nil when keys were
// given), which `ctpdesk dev` hands to the D1 client in memory.
type runningSandbox struct {
	*d1sandbox.Server
	URL            string
	KeyID          string
	Key            *ecdsa.PrivateKey
	PublicKeyFile  string
	PrivateKeyFile string
	close          func()
}

// Close stops the server and releases the portfolio.
func (r *runningSandbox) Close() { r.close() }

// startSandbox builds the portfolio and the sandbox and serves it on opts.Addr.
func startSandbox(ctx context.Context, opts sandboxStart) (*runningSandbox, error) {
	if opts.IssuerID == "" {
		opts.IssuerID = devIssuerID
	}
	portfolio := opts.Portfolio
	var closers []func()
	switch {
	case portfolio != nil:
	case opts.IssuerDBURL != "":
		db, err := issuerdb.Open(ctx, opts.IssuerDBURL, issuerdb.Options{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("sandbox: issuer database: %w", err)
		}
		portfolio = db
		closers = append(closers, func() { db.Close() })
	default:
		p, err := d1sandbox.NewGeneratorPortfolio(opts.Seed, opts.Customers)
		if err != nil {
			return nil, err
		}
		portfolio = p
	}
	fail := func(err error) (*runningSandbox, error) {
		for _, c := range closers {
			c()
		}
		return nil, err
	}
	sb, err := d1sandbox.New(d1sandbox.Options{
		IssuerID: opts.IssuerID, Keys: opts.Keys, Portfolio: portfolio, Seed: opts.Seed,
		Fault: opts.Fault, ConsumerFaults: opts.ConsumerFaults, Logger: opts.Log,
	})
	if err != nil {
		return fail(err)
	}
	r := &runningSandbox{Server: sb}
	if kid, key, ok := sb.GeneratedKey(); ok {
		r.KeyID, r.Key = kid, key
		if opts.KeyDir != "" {
			if r.PublicKeyFile, r.PrivateKeyFile, err = writeSandboxKeys(opts.KeyDir, kid, key); err != nil {
				return fail(err)
			}
		}
	} else {
		for k := range opts.Keys {
			r.KeyID = k
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fail(fmt.Errorf("sandbox: listen on %s: %w", opts.Addr, err))
	}
	scheme := "http"
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
		scheme = "https"
	}
	r.URL = scheme + "://" + ln.Addr().String()
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	r.close = func() {
		sb.Close()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		for _, c := range closers {
			c()
		}
	}
	return r, nil
}

// writeSandboxKeys writes a generated key pair as PEM files named after the kid.
func writeSandboxKeys(dir, kid string, key *ecdsa.PrivateKey) (pubFile, privFile string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("sandbox: key directory: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("sandbox: public key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("sandbox: private key: %w", err)
	}
	pubFile = filepath.Join(dir, kid+".pub.pem")
	privFile = filepath.Join(dir, kid+".key.pem")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", fmt.Errorf("sandbox: write public key: %w", err)
	}
	if err := os.WriteFile(privFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return "", "", fmt.Errorf("sandbox: write private key: %w", err)
	}
	return pubFile, privFile, nil
}

// readPublicKey reads a P-256 public key from a PEM file.
func readPublicKey(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: --public-key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("sandbox: --public-key: no PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("sandbox: --public-key: cannot parse the key")
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("sandbox: --public-key: not an ECDSA P-256 key")
	}
	return ec, nil
}

// sandboxClientConfig is the D1 client configuration for a sandbox started by startSandbox,
// with base, the tunables from the environment, kept.
func sandboxClientConfig(base d1.Config, r *runningSandbox) d1.Config {
	base.AuthzURL = r.URL + "/authz/v1"
	base.BankingURL = r.URL + "/banking/v1"
	base.IssuerID = r.IssuerID()
	base.KeyID = r.KeyID
	base.SigningKey = r.Key
	base.SigningKeyFile = ""
	return base
}
