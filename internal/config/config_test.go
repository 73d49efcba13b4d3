package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func envFrom(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDevNeedsNothing(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil {
		t.Fatalf("dev with an empty environment: %v", err)
	}
	if cfg.Addr != "127.0.0.1:8080" {
		t.Errorf("default addr %q", cfg.Addr)
	}
}

func TestLoadConfigRejectsBadValuesNamingTheVariable(t *testing.T) {
	cases := []struct{ name, value string }{
		{"CTPDESK_ADDR", "no-port"},
		{"CTPDESK_ADDR", "127.0.0.1:99999"},
		{"CTPDESK_ADDR", "127.0.0.1:http"},
		{"CTPDESK_PUBLIC_URL", "ftp://example.com"},
		{"CTPDESK_PUBLIC_URL", "not a url"},
		{"CTPDESK_PUBLIC_URL", "https://user:pw@example.com"},
		{"CTPDESK_LOG_LEVEL", "chatty"},
		{"CTPDESK_TRUSTED_PROXIES", "10.0.0.0/33"},
		{"CTPDESK_TRUSTED_PROXIES", "10.0.0.1,garbage"},
		{"CTPDESK_METRICS_NETWORKS", "loopback"},
		{"CTPDESK_DATABASE_URL", "mysql://db"},
		{"CTPDESK_ISSUER_DATABASE_URL", "sqlite:"},
		{"CTPDESK_SHUTDOWN_GRACE", "forever"},
		{"CTPDESK_SHUTDOWN_GRACE", "-5s"},
		{"CTPDESK_DATA_DIR", "data\x00dir"},
		{"CTPDESK_DATA_DIR", "line\nbreak"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := Load(envFrom(map[string]string{tc.name: tc.value}), ModeDev)
			if err == nil {
				t.Fatalf("%s=%q was accepted", tc.name, tc.value)
			}
			if !strings.Contains(err.Error(), tc.name) {
				t.Errorf("error does not name %s: %v", tc.name, err)
			}
		})
	}
}

func TestLoadConfigServeDemandsHTTPS(t *testing.T) {
	_, err := Load(envFrom(map[string]string{
		"CTPDESK_PUBLIC_URL":          "http://ctpdesk.bank.example",
		"CTPDESK_DATABASE_URL":        "postgres://app@db/ctpdesk",
		"CTPDESK_ISSUER_DATABASE_URL": "postgres://ro@replica/issuer",
	}), ModeServe)
	if err == nil || !strings.Contains(err.Error(), "CTPDESK_PUBLIC_URL") {
		t.Fatalf("plain http public URL in production: %v", err)
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	cfg, err := Load(envFrom(map[string]string{
		"CTPDESK_DATABASE_URL":        "postgres://app:hunter2-secret@db:5432/ctpdesk",
		"CTPDESK_ISSUER_DATABASE_URL": "postgres://ro:s3cr3t-issuer@replica/issuer",
	}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	printed := buf.String() + fmt.Sprintf("%v %+v %s", cfg, cfg, cfg.DatabaseURL)
	for _, secret := range []string{"hunter2-secret", "s3cr3t-issuer"} {
		if strings.Contains(printed, secret) {
			t.Errorf("a secret was printed: %s", printed)
		}
	}
	if cfg.DatabaseURL.Reveal() != "postgres://app:hunter2-secret@db:5432/ctpdesk" {
		t.Error("Reveal does not return the secret")
	}
}

// TestMetricsNetworksDefaultToNone: /metrics is open to no network unless one is named, since
// behind a sidecar proxy every request comes from loopback; "none" says so explicitly; named
// networks are kept; networks spanning most of the address space and malformed values are
// refused, naming the variable.
func TestMetricsNetworksDefaultToNone(t *testing.T) {
	for _, env := range []map[string]string{nil, {"CTPDESK_METRICS_NETWORKS": "none"}, {"CTPDESK_METRICS_NETWORKS": " NONE "}} {
		cfg, err := Load(envFrom(env), ModeDev)
		if err != nil || len(cfg.MetricsNetworks) != 0 {
			t.Errorf("%v: networks %v, %v; want none", env, cfg.MetricsNetworks, err)
		}
	}
	cfg, err := Load(envFrom(map[string]string{"CTPDESK_METRICS_NETWORKS": "10.20.0.0/16, 127.0.0.1, ::ffff:10.30.0.0/112"}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.MetricsNetworks); got != "[10.20.0.0/16 127.0.0.1/32 10.30.0.0/16]" {
		t.Errorf("networks = %s", got)
	}
	for _, hostile := range []string{
		"0.0.0.0/0", "::/0", "0.0.0.0/1", "::ffff:0.0.0.0/96", "2000::/3", "10.0.0.0/8,0.0.0.0/0",
		"none,10.0.0.1", "*", "any", "10.0.0.0/33", "10.0.0.1/-1", "127.0.0.1\x00", "127.0.0.1;rm -rf",
	} {
		_, err := Load(envFrom(map[string]string{"CTPDESK_METRICS_NETWORKS": hostile}), ModeDev)
		if err == nil || !strings.Contains(err.Error(), "CTPDESK_METRICS_NETWORKS") {
			t.Errorf("CTPDESK_METRICS_NETWORKS=%q: %v, want refused naming the variable", hostile, err)
		}
	}
}

// TestSignInRate: CTPDESK_SIGNIN_RATE defaults to DefaultSignInRate and refuses what is not a
// sensible whole number of requests per minute.
func TestSignInRate(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil || cfg.SignInRate != DefaultSignInRate {
		t.Fatalf("default sign-in rate %d, %v", cfg.SignInRate, err)
	}
	cfg, err = Load(envFrom(map[string]string{"CTPDESK_SIGNIN_RATE": "120"}), ModeDev)
	if err != nil || cfg.SignInRate != 120 {
		t.Errorf("CTPDESK_SIGNIN_RATE=120: %d, %v", cfg.SignInRate, err)
	}
	for _, hostile := range []string{"0", "-1", "1e9", "999999999999", "ten", "30/m", "6001"} {
		if _, err := Load(envFrom(map[string]string{"CTPDESK_SIGNIN_RATE": hostile}), ModeDev); err == nil ||
			!strings.Contains(err.Error(), "CTPDESK_SIGNIN_RATE") {
			t.Errorf("CTPDESK_SIGNIN_RATE=%q: %v", hostile, err)
		}
	}
}
