package cli

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestHelpListsOnlyWorkingCommands(t *testing.T) {
	var out syncBuffer
	if err := Run(context.Background(), []string{"ctpdesk", "--help"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for name := range commands() {
		if !strings.Contains(out.String(), "  "+name+" ") {
			t.Errorf("--help does not list %q:\n%s", name, out.String())
		}
	}
	err := Run(context.Background(), []string{"ctpdesk", "frobnicate"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown command: got %v, want an error naming it", err)
	}
	for name := range commands() {
		var cmdOut syncBuffer
		err := Run(context.Background(), []string{"ctpdesk", name, "--help"}, func(string) string { return "" }, &cmdOut, &cmdOut)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s --help: %v", name, err)
		}
		if !strings.Contains(cmdOut.String(), "Usage: ctpdesk "+name) {
			t.Errorf("%s --help printed no usage:\n%s", name, cmdOut.String())
		}
	}
}

func TestServeRefusesToStartWithoutProductionSettings(t *testing.T) {
	var out syncBuffer
	err := Run(context.Background(), []string{"ctpdesk", "serve"}, func(string) string { return "" }, &out, &out)
	if err == nil {
		t.Fatal("serve started with no configuration")
	}
	for _, name := range []string{"CTPDESK_PUBLIC_URL", "CTPDESK_DATABASE_URL", "CTPDESK_ISSUER_DATABASE_URL",
		"CTPDESK_OIDC_ISSUER", "CTPDESK_OIDC_CLIENT_ID", "CTPDESK_AUDIT_HMAC_KEY", "CTPDESK_AUDIT_WITNESS", "CTPDESK_D1_AUTHZ_URL",
		"CTPDESK_D1_BANKING_URL", "CTPDESK_D1_ISSUER_ID", "CTPDESK_D1_SIGNING_KEY_FILE", "CTPDESK_D1_KEY_ID"} {
		// Each missing setting is named once: a list that repeats itself hides what is missing.
		if n := strings.Count(err.Error(), name+":"); n != 1 {
			t.Errorf("error names %s %d times, want once:\n%v", name, n, err)
		}
	}
}

func TestVersionPrintsTheStampedVersion(t *testing.T) {
	old := Version
	Version = "v1.2.3-test"
	defer func() { Version = old }()
	var out syncBuffer
	if err := Run(context.Background(), []string{"ctpdesk", "version"}, envFrom(nil), &out, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "ctpdesk v1.2.3-test\n" {
		t.Errorf("version printed %q", got)
	}
	if err := Run(context.Background(), []string{"ctpdesk", "version", "extra"}, envFrom(nil), &out, &out); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("version with an argument: %v, want an error naming it", err)
	}
}

func TestDevAndServeHelpListTheirVariables(t *testing.T) {
	for cmd, want := range map[string][]string{
		"dev":   {"CTPDESK_ADDR", "127.0.0.1:8080", "CTPDESK_DEV_CUSTOMERS", "20000", "CTPDESK_SANDBOX_ADDR"},
		"serve": {"CTPDESK_ADDR", "CTPDESK_OIDC_ISSUER", "CTPDESK_AUDIT_RETENTION", "400d"},
	} {
		var out syncBuffer
		if err := Run(context.Background(), []string{"ctpdesk", cmd, "--help"}, envFrom(nil), &out, &out); err != nil {
			t.Fatalf("%s --help: %v", cmd, err)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s --help does not show %s:\n%s", cmd, w, out.String())
			}
		}
	}
}
