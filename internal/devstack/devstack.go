// Package devstack starts what `ctpdesk dev` runs around the dashboard: the issuer database
// seeded with synthetic customers, the D1 sandbox over those customers and the development
// OpenID Provider, each on a loopback port. Start returns the configuration that points the
// dashboard at them; the dashboard itself (internal/app) knows nothing of development mode.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"ctpdesk/devidp"
	"ctpdesk/internal/app"
	"ctpdesk/internal/config"
	"ctpdesk/issuerdb"
)

// devClientID is the development provider's one client.
const devClientID = "ctpdesk-dev"

// Stack is the running development stack.
type Stack struct {
	// Config is the configuration given to Start with the started components filled in:
	// the issuer database URL, the provider's issuer, client id and secret, and the D1 client
	// settings with the sandbox's throwaway key in memory.
	Config config.Config
	// SandboxURL is the D1 sandbox's base URL; "" when CTPDESK_D1_* name a real D1.
	SandboxURL string
	// IDPIssuer is the development provider's issuer URL; "" when CTPDESK_OIDC_ISSUER names a
	// real provider.
	IDPIssuer string
	closers   []func()
}

// Start brings up the development stack for cfg, whose public URL must be known (see
// app.Listen), and prints what it started to out. A component the configuration already names
// (a real OpenID Provider, a real D1) is not started. On error everything started is stopped.
func Start(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) (s *Stack, err error) {
	if cfg.PublicURL == nil {
		return nil, errors.New("devstack: the public URL is not known (bind with app.Listen first)")
	}
	s, err = StartData(ctx, cfg, out, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if cfg.OIDC.Issuer == "" {
		if err := s.startIDP(out, log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// StartData brings up the data half of the stack: the seeded issuer database and, unless
// CTPDESK_D1_* name a real D1, the sandbox over it. `ctpdesk scan` runs on it; Start adds the
// OpenID Provider.
func StartData(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) (s *Stack, err error) {
	s = &Stack{Config: cfg}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("CTPDESK_DATA_DIR %s: %w", cfg.DataDir, err)
	}
	issuerURL, err := seedIssuer(ctx, cfg, out)
	if err != nil {
		return nil, err
	}
	s.Config.IssuerDBURL = config.Secret(issuerURL)
	if cfg.D1.Client.AuthzURL == "" && cfg.D1.Client.BankingURL == "" {
		if err := s.startSandbox(ctx, issuerURL, out, log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Close stops every component the stack started, newest first.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func (s *Stack) onClose(fn func()) { s.closers = append(s.closers, fn) }

// seedIssuer seeds the issuer database with CTPDESK_DEV_CUSTOMERS synthetic customers on
// first start and reuses it after, and returns its URL.
func seedIssuer(ctx context.Context, cfg config.Config, out io.Writer) (string, error) {
	url := cfg.IssuerDatabaseURL()
	start := time.Now()
	seeded, err := issuerdb.EnsureSeeded(ctx, url, cfg.Issuer.DevCustomers, cfg.Issuer.DevSeed)
	if err != nil {
		return "", fmt.Errorf("issuer database %s: %w", config.RedactURL(url), err)
	}
	if seeded {
		fmt.Fprintf(out, "ctpdesk dev: seeded %d synthetic customers into %s in %s\n",
			cfg.Issuer.DevCustomers, config.RedactURL(url), time.Since(start).Round(time.Millisecond))
	}
	return url, nil
}

// startSandbox runs the D1 sandbox on CTPDESK_SANDBOX_ADDR over the issuer database and
// points the D1 client at it with the sandbox's throwaway key.
func (s *Stack) startSandbox(ctx context.Context, issuerURL string, out io.Writer, log *slog.Logger) error {
	cfg := s.Config
	sb, err := StartSandbox(ctx, SandboxOptions{
		Addr: cfg.D1.SandboxAddr, IssuerID: cfg.D1.Client.IssuerID, Seed: cfg.Issuer.DevSeed,
		Customers: cfg.Issuer.DevCustomers, IssuerDBURL: issuerURL,
		Fault: cfg.D1.SandboxFault, ConsumerFaults: cfg.D1.SandboxConsumerFaults,
		Log: log.With("component", "d1-sandbox"),
	})
	if err != nil {
		return fmt.Errorf("CTPDESK_SANDBOX_ADDR: %w", err)
	}
	s.onClose(sb.Close)
	s.SandboxURL = sb.URL
	s.Config.D1.Client = sb.ClientConfig(cfg.D1.Client)
	fmt.Fprintf(out, "ctpdesk dev: D1 sandbox at %s (issuer %s, kid %s)\n", sb.URL, sb.IssuerID(), sb.KeyID)
	return nil
}

// startIDP runs the development OpenID Provider on CTPDESK_DEVIDP_ADDR with a fresh client
// secret and registers the dashboard's redirect URLs with it.
func (s *Stack) startIDP(out io.Writer, log *slog.Logger) error {
	cfg := s.Config
	users := devidp.DefaultUsers()
	if path := cfg.OIDC.DevIDPUsers; path != "" {
		var err error
		if users, err = devidp.LoadUsers(path); err != nil {
			return fmt.Errorf("CTPDESK_DEVIDP_USERS: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.OIDC.DevIDPAddr)
	if err != nil {
		return fmt.Errorf("CTPDESK_DEVIDP_ADDR %s: %w", cfg.OIDC.DevIDPAddr, err)
	}
	issuer := "http://" + ln.Addr().String()
	// A fresh client secret per start: nothing to configure, nothing to leak.
	secretBytes := make([]byte, 32)
	_, _ = rand.Read(secretBytes)
	secret := base64.RawURLEncoding.EncodeToString(secretBytes)
	idp, err := devidp.New(devidp.Config{
		Issuer: issuer, ClientID: devClientID, ClientSecret: secret,
		RedirectURIs:           []string{app.RedirectURL(cfg)},
		PostLogoutRedirectURIs: []string{app.PostLogoutURL(cfg)},
		Users:                  users,
		Log:                    log.With(slog.String("component", "devidp")),
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: idp.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("development IdP stopped", slog.String("error", err.Error()))
		}
	}()
	s.onClose(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	s.IDPIssuer = issuer
	s.Config.OIDC.Issuer = issuer
	s.Config.OIDC.ClientID = devClientID
	s.Config.OIDC.ClientSecret = config.Secret(secret)
	fmt.Fprintf(out, "ctpdesk dev: development IdP at %s; demo users:\n", issuer)
	for _, u := range idp.Users() {
		groups := strings.Join(u.Groups, ",")
		if groups == "" {
			groups = "(no group: sees the no-access page)"
		}
		fmt.Fprintf(out, "  %-8s password %-6s groups %s\n", u.Username, u.Password, groups)
	}
	return nil
}
