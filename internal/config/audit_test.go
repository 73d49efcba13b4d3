package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAuditConfigDefaults(t *testing.T) {
	cfg, err := Load(envFrom(nil), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Audit.Retention != 400*24*time.Hour || cfg.Audit.CheckpointEvery != 1000 || cfg.Audit.HMACKey != "" {
		t.Fatalf("audit defaults = %+v", cfg.Audit)
	}
}

func TestAuditConfigRejectsBadValuesNamingTheVariable(t *testing.T) {
	cases := []struct{ name, value string }{
		{auditKeyEnv, "too-short"},
		{auditKeyEnv, strings.Repeat("ab", 32)[:63]},
		{auditKeyEnv, "not hex and not base64 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"},
		{auditKeyEnv, hex.EncodeToString(make([]byte, 31))},
		{auditRetentionEnv, "forever"},
		{auditRetentionEnv, "-5d"},
		{auditRetentionEnv, "0d"},
		{auditRetentionEnv, "12h"},
		{auditRetentionEnv, "99999999d"},
		{auditRetentionEnv, "1.5d"},
		{auditCheckpointEveryEnv, "0"},
		{auditCheckpointEveryEnv, "-1"},
		{auditCheckpointEveryEnv, "many"},
		{auditCheckpointEveryEnv, "10000000"},
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
			if tc.name == auditKeyEnv && strings.Contains(err.Error(), tc.value) {
				t.Errorf("error repeats the secret key value: %v", err)
			}
		})
	}
}

func TestAuditConfigAcceptsKeyEncodings(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 11)
	for _, v := range []string{
		hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw),
	} {
		cfg, err := Load(envFrom(map[string]string{auditKeyEnv: v, auditRetentionEnv: "730d"}), ModeDev)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		key, err := cfg.Audit.AuditKey(ModeDev, t.TempDir(), false)
		if err != nil || !bytes.Equal(key, raw) {
			t.Fatalf("%s decoded to %x, %v", v, key, err)
		}
		if cfg.Audit.Retention != 730*24*time.Hour {
			t.Errorf("retention %s", cfg.Audit.Retention)
		}
	}
}

func TestAuditConfigServe(t *testing.T) {
	base := map[string]string{
		"CTPDESK_PUBLIC_URL":          "https://ctpdesk.bank.example",
		"CTPDESK_DATABASE_URL":        "postgres://app@db/ctpdesk",
		"CTPDESK_ISSUER_DATABASE_URL": "postgres://ro@replica/issuer",
	}
	_, err := Load(envFrom(base), ModeServe)
	if err == nil || !strings.Contains(err.Error(), auditKeyEnv) {
		t.Errorf("serve without an audit key: %v, want an error naming %s", err, auditKeyEnv)
	}
	base[auditRetentionEnv] = "90d"
	_, err = Load(envFrom(base), ModeServe)
	if err == nil || !strings.Contains(err.Error(), auditRetentionEnv) || !strings.Contains(err.Error(), "365") {
		t.Errorf("serve with 90 days of retention: %v, want an error naming %s", err, auditRetentionEnv)
	}
}

func TestAuditKeyNeverPrinted(t *testing.T) {
	key := hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
	cfg, err := Load(envFrom(map[string]string{auditKeyEnv: key}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	if s := buf.String() + " " + strings.Join([]string{cfg.Audit.HMACKey.String()}, ""); strings.Contains(s, key) {
		t.Fatalf("the audit key leaked into: %s", s)
	}
}

// TestDevAuditKeyFile: dev generates one key per data dir, keeps it private, and reuses it; two
// processes starting at once agree on one key.
func TestDevAuditKeyFile(t *testing.T) {
	dir := t.TempDir()
	var a AuditConfig
	if _, err := a.AuditKey(ModeDev, dir, false); err == nil || !strings.Contains(err.Error(), auditKeyEnv) {
		t.Fatalf("no key and no file, create=false: %v, want an error naming %s", err, auditKeyEnv)
	}
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := a.AuditKey(ModeDev, dir, true)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Fatalf("concurrent starts produced different keys: %x vs %x", k, keys[0])
		}
	}
	fi, err := os.Stat(filepath.Join(dir, devAuditKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := a.AuditKey(ModeDev, dir, true)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("second start read %x, %v; want the same key", again, err)
	}
	if _, err := a.AuditKey(ModeServe, dir, true); err == nil {
		t.Fatal("serve fell back to the dev key file")
	}
	if err := os.WriteFile(filepath.Join(dir, devAuditKeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuditKey(ModeDev, dir, true); err == nil {
		t.Fatal("a corrupt key file was accepted")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, devAuditKeyFile+".*"))
	if len(matches) != 0 {
		t.Errorf("temporary key files left behind: %v", matches)
	}
}
