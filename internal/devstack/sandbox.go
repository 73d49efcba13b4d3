package devstack

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
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
)

// SandboxOptions is what StartSandbox needs; `ctpdesk dev` fills it from its configuration
// and `ctpdesk sandbox` from its flags.
type SandboxOptions struct {
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

// Sandbox is a started sandbox. Key is the generated private key (nil when keys were
// given), which `ctpdesk dev` hands to the D1 client in memory.
type Sandbox struct {
	*d1sandbox.Server
	URL            string
	KeyID          string
	Key            *ecdsa.PrivateKey
	PublicKeyFile  string
	PrivateKeyFile string
	close          func()
}

// Close stops the server and releases the portfolio.
func (r *Sandbox) Close() { r.close() }

// StartSandbox builds the portfolio and the sandbox and serves it on opts.Addr.
func StartSandbox(ctx context.Context, opts SandboxOptions) (*Sandbox, error) {
	if opts.IssuerID == "" {
		opts.IssuerID = config.DevIssuerID
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
	fail := func(err error) (*Sandbox, error) {
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
	r := &Sandbox{Server: sb}
	if kid, key, ok := sb.GeneratedKey(); ok {
		r.KeyID, r.Key = kid, key
		if opts.KeyDir != "" {
			if r.PublicKeyFile, r.PrivateKeyFile, err = WriteSandboxKeys(opts.KeyDir, kid, key); err != nil {
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

// WriteSandboxKeys writes a generated key pair as PEM files named after the kid.
func WriteSandboxKeys(dir, kid string, key *ecdsa.PrivateKey) (pubFile, privFile string, err error) {
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

// ReadPublicKey reads a P-256 public key from a PEM file.
func ReadPublicKey(path string) (*ecdsa.PublicKey, error) {
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

// ClientConfig is the D1 client configuration that reaches this sandbox, with base's
// tunables (timeouts, retries, cache) kept.
func (r *Sandbox) ClientConfig(base d1.Config) d1.Config {
	base.AuthzURL = r.URL + "/authz/v1"
	base.BankingURL = r.URL + "/banking/v1"
	base.IssuerID = r.IssuerID()
	base.KeyID = r.KeyID
	base.SigningKey = r.Key
	base.SigningKeyFile = ""
	return base
}
