package config

import (
	"strings"
	"testing"
)

func TestIssuerConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	cfg, err := Load(env(map[string]string{"CTPDESK_PHONE_REGION": "us", "CTPDESK_DEV_CUSTOMERS": "500",
		"CTPDESK_ISSUER_SEARCHES": " 6 "}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer.PhoneRegion != "US" || cfg.Issuer.DevCustomers != 500 || cfg.Issuer.Searches != 6 {
		t.Errorf("issuer config = %+v", cfg.Issuer)
	}
	// Searches 0 leaves the number to issuerdb (two per CPU).
	cfg, err = Load(env(nil), ModeDev)
	if err != nil || cfg.Issuer.PhoneRegion != "GB" || cfg.Issuer.DevCustomers != 20000 || cfg.Issuer.Searches != 0 {
		t.Errorf("defaults = %+v, %v", cfg.Issuer, err)
	}
	for name, bad := range map[string][]string{
		"CTPDESK_PHONE_REGION":  {"UK", "XX", "G", "GBR", "1", "🇬🇧"},
		"CTPDESK_DEV_CUSTOMERS": {"0", "-1", "many", "20000000"},
		"CTPDESK_DEV_SEED":      {"-1", "x"},
		// No turn at all would refuse every search; past 1,024 the number limits nothing (the
		// issuer pool holds 8 connections on SQLite, 20 on PostgreSQL).
		"CTPDESK_ISSUER_SEARCHES": {"0", "-2", "1025", "4.5", "2x", "two", "1e3", "99999999999999999999"},
	} {
		for _, v := range bad {
			_, err := Load(env(map[string]string{name: v}), ModeDev)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: err = %v, want one naming the variable", name, v, err)
			}
		}
	}
}
