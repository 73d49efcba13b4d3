package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestD1ConfigBadValuesNameTheVariable checks every D1 and sandbox setting refuses bad values
// with an error naming the variable.
func TestD1ConfigBadValuesNameTheVariable(t *testing.T) {
	remote := map[string]string{"CTPDESK_D1_AUTHZ_URL": "https://d1.example/authz/v1", "CTPDESK_D1_BANKING_URL": "https://d1.example/banking/v1"}
	cases := []struct {
		name, value string
		extra       map[string]string
	}{
		{"CTPDESK_D1_TIMEOUT", "forever", nil},
		{"CTPDESK_D1_TIMEOUT", "1ms", nil},
		{"CTPDESK_D1_CACHE_TTL", "1h", nil},
		{"CTPDESK_D1_CACHE_SIZE", "0", nil},
		{"CTPDESK_D1_STALE_MAX_AGE", "-1m", nil},
		{"CTPDESK_D1_MAX_RETRIES", "3", nil},
		{"CTPDESK_D1_BREAKER_FAILURES", "zero", nil},
		{"CTPDESK_D1_ISSUER_ID", "SHORT", nil},
		{"CTPDESK_D1_ISSUER_ID", "ELEVEN_CHAR", remote},
		{"CTPDESK_D1_AUTHZ_URL", "ftp://d1.example", nil},
		{"CTPDESK_D1_SIGNING_KEY_FILE", "/nonexistent/key.pem", remote},
		{"CTPDESK_D1_KEY_ID", "", remote},
		{"CTPDESK_D1_CA_FILE", "/nonexistent/ca.pem", remote},
		{"CTPDESK_SANDBOX_ADDR", "no-port", nil},
		{"CTPDESK_SANDBOX_FAULT", "explode", nil},
		{"CTPDESK_SANDBOX_FAULT", "status=200", nil},
		{"CTPDESK_SANDBOX_CONSUMER_FAULTS", "bad id=hang", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			env := map[string]string{tc.name: tc.value}
			for k, v := range tc.extra {
				if _, set := env[k]; !set {
					env[k] = v
				}
			}
			_, err := Load(envFrom(env), ModeDev)
			if err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("err = %v, want one naming %s", err, tc.name)
			}
		})
	}
}

// TestD1ConfigServe checks serve demands every D1 setting over https and loads a full set.
func TestD1ConfigServe(t *testing.T) {
	_, err := Load(envFrom(nil), ModeServe)
	for _, name := range []string{"CTPDESK_D1_AUTHZ_URL", "CTPDESK_D1_BANKING_URL", "CTPDESK_D1_ISSUER_ID", "CTPDESK_D1_SIGNING_KEY_FILE", "CTPDESK_D1_KEY_ID"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("serve without %s: %v", name, err)
		}
	}
	keyFile := writeTestKey(t)
	env := map[string]string{
		"CTPDESK_D1_AUTHZ_URL": "http://d1.example/authz/v1", "CTPDESK_D1_BANKING_URL": "https://d1.example/banking/v1",
		"CTPDESK_D1_ISSUER_ID": "NRDBANK_01", "CTPDESK_D1_SIGNING_KEY_FILE": keyFile, "CTPDESK_D1_KEY_ID": "k1",
	}
	if _, err := Load(envFrom(env), ModeServe); err == nil || !strings.Contains(err.Error(), "CTPDESK_D1_AUTHZ_URL") {
		t.Errorf("plain http D1 in serve: %v", err)
	}
	env["CTPDESK_D1_AUTHZ_URL"] = "https://d1.example/authz/v1"
	env["CTPDESK_D1_TIMEOUT"] = "2s"
	env["CTPDESK_D1_STALE_MAX_AGE"] = "0"
	cfg, err := Load(envFrom(env), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.D1.Client
	if cl.IssuerID != "NRDBANK_01" || cl.Timeout != 2*time.Second || cl.StaleMaxAge >= 0 || cl.KeyID != "k1" {
		t.Errorf("loaded %+v", cl)
	}
	if err := cl.Validate(); err != nil {
		t.Errorf("loaded config does not validate: %v", err)
	}
}

// TestD1ConfigDevDefaultsToSandbox checks an empty dev environment means the sandbox.
func TestD1ConfigDevDefaultsToSandbox(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.D1.SandboxAddr != "127.0.0.1:8090" || cfg.D1.Client.IssuerID != DevIssuerID || cfg.D1.Client.AuthzURL != "" {
		t.Errorf("dev D1 config %+v", cfg.D1)
	}
}

func writeTestKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
