package e2e_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"ctpdesk/d1sandbox"
	"ctpdesk/devidp"
	"ctpdesk/internal/config"
	"ctpdesk/internal/devstack"
	"ctpdesk/issuerdb"
)

// serveDeps are what `ctpdesk serve` processes of a test reach outside themselves, run in the
// test's process over TLS on loopback: the D1 sandbox over the portfolio and the development
// OpenID Provider with one client registered for publicURL. Both stop when the test ends.
type serveDeps struct {
	env []string
	// Web trusts both servers and follows no redirect.
	Web *http.Client
}

// startServeDeps starts the sandbox and the provider, keeping their key and certificate files
// in dir.
func startServeDeps(tb testing.TB, dir, publicURL, clientID string, portfolio *issuerdb.DB, seed int64) serveDeps {
	tb.Helper()
	sb, err := d1sandbox.New(d1sandbox.Options{IssuerID: config.DevIssuerID, Portfolio: portfolio, Seed: seed})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sb.Close)
	d1Srv := httptest.NewUnstartedServer(sb)
	d1Srv.StartTLS()
	tb.Cleanup(d1Srv.Close)
	kid, key, _ := sb.GeneratedKey()
	_, keyFile, err := devstack.WriteSandboxKeys(filepath.Join(dir, "sandbox"), kid, key)
	if err != nil {
		tb.Fatal(err)
	}
	// Every test server shares httptest's certificate: the app trusts it as its CA for D1
	// (CTPDESK_D1_CA_FILE) and, through SSL_CERT_FILE, for the OpenID Provider.
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d1Srv.Certificate().Raw}), 0o600); err != nil {
		tb.Fatal(err)
	}
	idpSrv := httptest.NewUnstartedServer(nil)
	issuer := "https://" + idpSrv.Listener.Addr().String()
	secret := randomHex(tb, 32)
	idp, err := devidp.New(devidp.Config{
		Issuer: issuer, ClientID: clientID, ClientSecret: secret,
		RedirectURIs: []string{publicURL + "/auth/callback"}, PostLogoutRedirectURIs: []string{publicURL + "/login?signed_out=1"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	idpSrv.Config.Handler = idp.Handler()
	idpSrv.StartTLS()
	tb.Cleanup(idpSrv.Close)
	web := idpSrv.Client()
	web.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return serveDeps{Web: web, env: []string{
		"SSL_CERT_FILE=" + caFile,
		"CTPDESK_OIDC_ISSUER=" + issuer,
		"CTPDESK_OIDC_CLIENT_ID=" + clientID,
		"CTPDESK_OIDC_CLIENT_SECRET=" + secret,
		"CTPDESK_ROLE_AGENT=cs-agents",
		"CTPDESK_ROLE_FRAUD=fraud-analysts",
		"CTPDESK_ROLE_AUDITOR=it-audit",
		"CTPDESK_D1_AUTHZ_URL=" + d1Srv.URL + "/authz/v1",
		"CTPDESK_D1_BANKING_URL=" + d1Srv.URL + "/banking/v1",
		"CTPDESK_D1_ISSUER_ID=" + config.DevIssuerID,
		"CTPDESK_D1_SIGNING_KEY_FILE=" + keyFile,
		"CTPDESK_D1_KEY_ID=" + kid,
		"CTPDESK_D1_CA_FILE=" + caFile,
	}}
}

// Env is the environment that points an app at the sandbox and the provider.
func (d serveDeps) Env() []string { return slices.Clip(d.env) }
