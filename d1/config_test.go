package d1_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/internal/d1test"
)

// TestConfigValidate checks every bad value is reported with the name of its field.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	keyFile := d1test.SigningKeyFile(t, dir, d1test.MustKey(t))
	good := d1.Config{
		AuthzURL: "https://api.d1-stg.thalescloud.io/authz/v1", BankingURL: "https://api.d1-stg.thalescloud.io/banking/v1",
		IssuerID: "NRDBANK_01", SigningKeyFile: keyFile, KeyID: "kid-1",
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	rsaLike := filepath.Join(dir, "rsa.pem")
	if err := os.WriteFile(rsaLike, []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		field  string
		mutate func(*d1.Config)
	}{
		{"AuthzURL", func(c *d1.Config) { c.AuthzURL = "" }},
		{"AuthzURL", func(c *d1.Config) { c.AuthzURL = "ftp://x/authz" }},
		{"BankingURL", func(c *d1.Config) { c.BankingURL = "https://user:pw@host/banking" }},
		{"BankingURL", func(c *d1.Config) { c.BankingURL = "/relative" }},
		{"IssuerID", func(c *d1.Config) { c.IssuerID = "SHORT" }},
		{"IssuerID", func(c *d1.Config) { c.IssuerID = "ELEVEN_CHAR" }},
		{"IssuerID", func(c *d1.Config) { c.IssuerID = "NRD BANK01" }},
		{"SigningKeyFile", func(c *d1.Config) { c.SigningKeyFile = "" }},
		{"SigningKeyFile", func(c *d1.Config) { c.SigningKeyFile = filepath.Join(dir, "missing.pem") }},
		{"SigningKeyFile", func(c *d1.Config) { c.SigningKeyFile = notPEM }},
		{"SigningKeyFile", func(c *d1.Config) { c.SigningKeyFile = rsaLike }},
		{"KeyID", func(c *d1.Config) { c.KeyID = "" }},
		{"ClientCertFile", func(c *d1.Config) { c.ClientCertFile = keyFile }},
		{"CAFile", func(c *d1.Config) { c.CAFile = filepath.Join(dir, "nope.pem") }},
		{"Timeout", func(c *d1.Config) { c.Timeout = -time.Second }},
		{"AttemptTimeout", func(c *d1.Config) { c.AttemptTimeout = -time.Second }},
		{"AssertionLifetime", func(c *d1.Config) { c.AssertionLifetime = 16 * time.Minute }},
		{"MaxRetries", func(c *d1.Config) { c.MaxRetries = 5 }},
		{"RetryBudgetRatio", func(c *d1.Config) { c.RetryBudgetRatio = 1.5 }},
		{"MaxBodyBytes", func(c *d1.Config) { c.MaxBodyBytes = 10 }},
	}
	for _, tc := range cases {
		c := good
		tc.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v, want one naming the field", tc.field, err)
		}
		if err != nil && strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: error quotes key material: %v", tc.field, err)
		}
	}
	if _, err := d1.New(good, nil); err == nil {
		t.Error("New accepted a nil http client")
	}
}
