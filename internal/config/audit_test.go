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
	if err == nil || !strings.Contains(err.Error(), auditWitnessEnv+": is required by 'ctpdesk serve'") {
		t.Errorf("serve without an audit witness: %v, want an error naming %s", err, auditWitnessEnv)
	}
	base[auditWitnessEnv] = "/mnt/witness/audit-witness.jsonl"
	base[auditRetentionEnv] = "90d"
	_, err = Load(envFrom(base), ModeServe)
	if err == nil || !strings.Contains(err.Error(), auditRetentionEnv) || !strings.Contains(err.Error(), "365") {
		t.Errorf("serve with 90 days of retention: %v, want an error naming %s", err, auditRetentionEnv)
	}
	if strings.Contains(err.Error(), auditWitnessEnv) {
		t.Errorf("serve refused an absolute witness path: %v", err)
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

func TestAuditWitnessConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Load(envFrom(map[string]string{"CTPDESK_DATA_DIR": dir}), ModeDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Audit.Witness != "" || cfg.AuditWitnessFile() != filepath.Join(dir, "audit-witness.jsonl") {
		t.Fatalf("dev witness = %q / %q, want the JSON-lines file in the data dir", cfg.Audit.Witness, cfg.AuditWitnessFile())
	}
	cfg, err = Load(envFrom(map[string]string{auditWitnessEnv: " witness//./w.jsonl "}), ModeDev)
	if err != nil || cfg.AuditWitnessFile() != "witness/w.jsonl" {
		t.Fatalf("dev with a relative witness: %q, %v", cfg.AuditWitnessFile(), err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	if !strings.Contains(buf.String(), `"audit_witness":"witness/w.jsonl"`) {
		t.Errorf("the start-up log does not name the witness: %s", buf.String())
	}
}

// TestAuditWitnessConfigRefusesHostileValues: each value that cannot be a witness file is
// refused at start, with the variable and the reason named.
func TestAuditWitnessConfigRefusesHostileValues(t *testing.T) {
	cases := []struct {
		value string
		mode  Mode
		want  string
	}{
		{"/var/lib/ctpdesk/w\x00.jsonl", ModeDev, "must not contain control characters"},
		{"/var/lib/ctpdesk/w.jsonl\n/etc/passwd", ModeDev, "must not contain control characters"},
		{"s3://audit-bucket/witness.jsonl", ModeDev, "must be a file path, not a URL"},
		{"file:///var/lib/ctpdesk/witness.jsonl", ModeDev, "must be a file path, not a URL"},
		{"/var/lib/ctpdesk/", ModeDev, "must name a file, not a directory"},
		{".", ModeDev, "must name a file, not a directory"},
		{"witness/..", ModeDev, "must name a file, not a directory"},
		{"/var/..", ModeDev, "must name a file, not a directory"},
		{"/" + strings.Repeat("a", 1100), ModeDev, "is longer than 1024 bytes"},
		{"witness.jsonl", ModeServe, "must be an absolute path (a file on storage apart from the database)"},
		{"/srv/db/dash.db", ModeDev, "is the dashboard database's own file; the witness must live apart from it"},
		{"/srv/db/dash.db-wal", ModeDev, "is the dashboard database's own file; the witness must live apart from it"},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode)+"="+tc.value[:min(len(tc.value), 40)], func(t *testing.T) {
			env := map[string]string{auditWitnessEnv: tc.value, "CTPDESK_DATABASE_URL": "sqlite:/srv/db/dash.db"}
			_, err := Load(envFrom(env), tc.mode)
			if want := auditWitnessEnv + ": " + tc.want; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s=%q: %v, want %q", auditWitnessEnv, tc.value, err, want)
			}
		})
	}
}
