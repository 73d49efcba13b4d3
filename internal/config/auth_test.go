package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuthConfigDevDefaults(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OIDC.Issuer != "" || cfg.OIDC.RoleClaim != "groups" || cfg.OIDC.DevIDPAddr != "127.0.0.1:8091" {
		t.Errorf("OIDC = %+v", cfg.OIDC)
	}
	if strings.Join(cfg.Roles.Agent, ",") != "cs-agents" || strings.Join(cfg.Roles.Fraud, ",") != "fraud-analysts" ||
		strings.Join(cfg.Roles.Auditor, ",") != "it-audit" {
		t.Errorf("dev roles = %+v", cfg.Roles)
	}
	if cfg.Session.Idle != 15*time.Minute || cfg.Session.Max != 10*time.Hour {
		t.Errorf("session = %+v", cfg.Session)
	}
	cfg.PublicURL = &url.URL{Scheme: "http", Host: "localhost:8080"}
	if cfg.CookieSecure() {
		t.Error("dev on http loopback should drop the Secure cookie")
	}
	cfg.PublicURL = &url.URL{Scheme: "http", Host: "10.1.2.3:8080"}
	if !cfg.CookieSecure() {
		t.Error("dev on a non-loopback host must keep the Secure cookie")
	}
}

func TestAuthConfigServe(t *testing.T) {
	base := map[string]string{
		"CTPDESK_PUBLIC_URL":          "https://ctpdesk.bank.example",
		"CTPDESK_DATABASE_URL":        "postgres://app@db/ctpdesk",
		"CTPDESK_ISSUER_DATABASE_URL": "postgres://ro@replica/issuer",
		"CTPDESK_OIDC_ISSUER":         "https://sso.bank.example/realms/staff",
		"CTPDESK_OIDC_CLIENT_ID":      "ctpdesk",
		"CTPDESK_OIDC_CLIENT_SECRET":  "very-secret-value",
		"CTPDESK_ROLE_AGENT":          "cs-agents, cs-leads",
	}
	cfg, err := Load(envFrom(base), ModeServe)
	if err != nil && strings.Contains(err.Error(), "OIDC") || err != nil && strings.Contains(err.Error(), "ROLE") {
		t.Fatalf("valid serve auth settings refused: %v", err)
	}
	if err == nil {
		if !cfg.CookieSecure() || len(cfg.Roles.Fraud) != 0 || strings.Join(cfg.Roles.Agent, "|") != "cs-agents|cs-leads" {
			t.Errorf("serve cfg = %+v %+v", cfg.Session, cfg.Roles)
		}
		if strings.Contains(cfg.OIDC.ClientSecret.String(), "very-secret") {
			t.Error("client secret printable")
		}
	}
	for _, name := range []string{"CTPDESK_OIDC_ISSUER", "CTPDESK_OIDC_CLIENT_ID"} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		delete(env, name)
		if _, err := Load(envFrom(env), ModeServe); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("serve without %s: %v", name, err)
		}
	}
	env := map[string]string{}
	for k, v := range base {
		env[k] = v
	}
	delete(env, "CTPDESK_ROLE_AGENT")
	if _, err := Load(envFrom(env), ModeServe); err == nil || !strings.Contains(err.Error(), "CTPDESK_ROLE_AGENT") {
		t.Errorf("serve with no role mapping: %v", err)
	}
}

func TestAuthConfigRejectsBadValuesNamingTheVariable(t *testing.T) {
	cases := []struct {
		mode        Mode
		name, value string
	}{
		{ModeDev, "CTPDESK_OIDC_ISSUER", "not a url"},
		{ModeDev, "CTPDESK_OIDC_ISSUER", "ftp://sso.example"},
		{ModeDev, "CTPDESK_OIDC_ISSUER", "http://sso.bank.example"},
		{ModeDev, "CTPDESK_OIDC_ISSUER", "https://sso.example/?x=1"},
		{ModeServe, "CTPDESK_OIDC_ISSUER", "http://127.0.0.1:8091"},
		{ModeDev, "CTPDESK_OIDC_CLIENT_ID", strings.Repeat("c", 300)},
		{ModeDev, "CTPDESK_OIDC_CLIENT_ID", "ctp\x00desk"},
		{ModeDev, "CTPDESK_OIDC_CLIENT_SECRET", "line\nbreak"},
		{ModeDev, "CTPDESK_OIDC_REDIRECT_URL", "/auth/callback"},
		{ModeServe, "CTPDESK_OIDC_REDIRECT_URL", "http://ctpdesk.bank.example/auth/callback"},
		{ModeDev, "CTPDESK_OIDC_SCOPES", "openid,pro\"file"},
		{ModeDev, "CTPDESK_OIDC_REQUIRE_AMR", "mfa,o tp"},
		{ModeDev, "CTPDESK_OIDC_REQUIRE_AMR", "mfa,\"otp\""},
		{ModeDev, "CTPDESK_OIDC_REQUIRE_AMR", "mf\x00a"},
		{ModeDev, "CTPDESK_OIDC_REQUIRE_AMR", strings.Repeat("m", 300)},
		{ModeDev, "CTPDESK_OIDC_ACR_VALUES", "urn:bank:loa:high\\x"},
		{ModeDev, "CTPDESK_OIDC_ACR_VALUES", "gold\tsilver"},
		{ModeDev, "CTPDESK_OIDC_ACR_VALUES", "ünicode"},
		{ModeDev, "CTPDESK_OIDC_ROLE_CLAIM", "groups claim"},
		{ModeDev, "CTPDESK_OIDC_ROLE_CLAIM", "{groups}"},
		{ModeDev, "CTPDESK_ROLE_AGENT", "cs-agents,,cs-leads"},
		{ModeDev, "CTPDESK_ROLE_FRAUD", " , "},
		{ModeDev, "CTPDESK_ROLE_AUDITOR", "it-audit,\x7f"},
		{ModeDev, "CTPDESK_SESSION_IDLE", "20m"},
		{ModeDev, "CTPDESK_SESSION_IDLE", "soon"},
		{ModeDev, "CTPDESK_SESSION_IDLE", "10s"},
		{ModeDev, "CTPDESK_SESSION_MAX", "48h"},
		{ModeDev, "CTPDESK_SESSION_MAX", "-1h"},
		{ModeDev, "CTPDESK_COOKIE_SECURE", "maybe"},
		{ModeServe, "CTPDESK_COOKIE_SECURE", "false"},
		{ModeDev, "CTPDESK_DEVIDP_ADDR", "0.0.0.0:8091"},
		{ModeDev, "CTPDESK_DEVIDP_ADDR", "nope"},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode)+"/"+tc.name+"="+tc.value, func(t *testing.T) {
			_, err := Load(envFrom(map[string]string{tc.name: tc.value}), tc.mode)
			if err == nil {
				t.Fatalf("%s=%q was accepted", tc.name, tc.value)
			}
			if !strings.Contains(err.Error(), tc.name+":") {
				t.Errorf("error does not name %s: %v", tc.name, err)
			}
		})
	}
	// Max shorter than idle is refused and named.
	_, err := Load(envFrom(map[string]string{"CTPDESK_SESSION_IDLE": "15m", "CTPDESK_SESSION_MAX": "15m"}), ModeDev)
	if err != nil {
		t.Errorf("max equal to idle refused: %v", err)
	}
}

func TestAuthConfigNeverPrintsClientSecret(t *testing.T) {
	cfg, err := Load(envFrom(map[string]string{
		"CTPDESK_OIDC_ISSUER": "https://sso.bank.example", "CTPDESK_OIDC_CLIENT_ID": "ctpdesk",
		"CTPDESK_OIDC_CLIENT_SECRET": "oidc-secret-value-42",
	}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	printed := buf.String() + fmt.Sprintf("%v %+v", cfg, cfg)
	if strings.Contains(printed, "oidc-secret-value-42") {
		t.Errorf("the OIDC client secret was printed: %s", printed)
	}
	if !strings.Contains(buf.String(), "https://sso.bank.example") {
		t.Errorf("the issuer is missing from the logged configuration: %s", buf.String())
	}
}

// TestAuthStrengthSettings: CTPDESK_OIDC_REQUIRE_AMR and CTPDESK_OIDC_ACR_VALUES are empty by
// default and read as comma lists.
func TestAuthStrengthSettings(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil || cfg.OIDC.RequireAMR != nil || cfg.OIDC.ACRValues != nil {
		t.Fatalf("defaults: %v %v %v", cfg.OIDC.RequireAMR, cfg.OIDC.ACRValues, err)
	}
	cfg, err = Load(envFrom(map[string]string{"CTPDESK_OIDC_REQUIRE_AMR": "mfa, otp,hwk", "CTPDESK_OIDC_ACR_VALUES": "urn:bank:loa:high"}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.OIDC.RequireAMR, cfg.OIDC.ACRValues) != "[mfa otp hwk] [urn:bank:loa:high]" {
		t.Errorf("read %v %v", cfg.OIDC.RequireAMR, cfg.OIDC.ACRValues)
	}
}
