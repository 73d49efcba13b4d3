package d1_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
)

// TestMutualTLS runs the sandbox behind TLS that requires a client certificate (a PKI made at
// run time) and checks the client presents its certificate, and fails cleanly without it.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certs := d1test.NewCerts(t, dir)
	portfolio := d1test.NewPortfolio(50)
	sb, err := d1sandbox.New(d1sandbox.Options{IssuerID: testIssuer, Portfolio: portfolio, Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	var sawClientCert bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawClientCert = r.TLS != nil && len(r.TLS.PeerCertificates) == 1 && r.TLS.PeerCertificates[0].Subject.CommonName == "ctpdesk-test-client"
		sb.ServeHTTP(w, r)
	}))
	srv.TLS, err = d1sandbox.ServerTLSConfig(certs.ServerCertFile, certs.ServerKeyFile, certs.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	// The handshake failures below are expected; keep them out of the test output.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	kid, key, _ := sb.GeneratedKey()
	base := d1.Config{
		AuthzURL: srv.URL + "/authz/v1", BankingURL: srv.URL + "/banking/v1", IssuerID: testIssuer,
		SigningKeyFile: d1test.SigningKeyFile(t, dir, key), KeyID: kid, CAFile: certs.CAFile, MaxRetries: -1,
	}
	consumer := d1test.ConsumerID(1)

	t.Run("with client certificate", func(t *testing.T) {
		cfg := base
		cfg.ClientCertFile, cfg.ClientKeyFile = certs.ClientCertFile, certs.ClientKeyFile
		hc, err := d1.NewHTTPClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := d1.New(cfg, hc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetProfiles(context.Background(), consumer, d1.FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		if !sawClientCert {
			t.Error("the server did not see the client certificate")
		}
	})
	t.Run("without client certificate", func(t *testing.T) {
		hc, err := d1.NewHTTPClient(base)
		if err != nil {
			t.Fatal(err)
		}
		c, err := d1.New(base, hc)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetProfiles(context.Background(), consumer, d1.FetchOptions{})
		var de *d1.Error
		if !errors.Is(err, d1.ErrUnavailable) || !errors.As(err, &de) || de.Op != "token" || de.Status != 0 {
			t.Fatalf("err = %v, want a clean ErrUnavailable from the token call", err)
		}
	})
	t.Run("untrusted server", func(t *testing.T) {
		cfg := base
		cfg.CAFile = ""
		hc, err := d1.NewHTTPClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c, err := d1.New(cfg, hc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetProfiles(context.Background(), consumer, d1.FetchOptions{}); !errors.Is(err, d1.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("bad files", func(t *testing.T) {
		for name, cfg := range map[string]d1.Config{
			"cert without key": {ClientCertFile: certs.ClientCertFile, ClientKeyFile: certs.CAFile},
			"CA not PEM":       {CAFile: base.SigningKeyFile + ".missing"},
		} {
			if _, err := d1.NewHTTPClient(cfg); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
	})
}
