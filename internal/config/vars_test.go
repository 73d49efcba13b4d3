package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestVariablesListEverySettingWithItsDefault: --help prints Variables, so it must name every
// variable either mode reads, with the defaults Load really uses.
func TestVariablesListEverySettingWithItsDefault(t *testing.T) {
	dev := map[string]string{}
	for _, v := range Variables(ModeDev) {
		dev[v.Name] = v.Default
	}
	for name, want := range map[string]string{
		"CTPDESK_ADDR": DefaultAddr, "CTPDESK_LOG_LEVEL": "INFO", "CTPDESK_SESSION_IDLE": "15m0s",
		"CTPDESK_AUDIT_RETENTION": "400d", "CTPDESK_DEV_CUSTOMERS": "20000", "CTPDESK_OIDC_ROLE_CLAIM": "groups",
		"CTPDESK_ROLE_AGENT": "cs-agents", "CTPDESK_OIDC_CLIENT_SECRET": "",
		"CTPDESK_AUDIT_WITNESS": "CTPDESK_DATA_DIR/audit-witness.jsonl", "CTPDESK_ISSUER_SEARCHES": "2 per CPU",
	} {
		got, ok := dev[name]
		if !ok {
			t.Errorf("Variables(dev) lacks %s", name)
		} else if got != want {
			t.Errorf("Variables(dev): %s default %q, want %q", name, got, want)
		}
	}
	serve := Variables(ModeServe)
	if i := slices.IndexFunc(serve, func(v Variable) bool { return v.Name == "CTPDESK_ROLE_AGENT" }); i < 0 || serve[i].Default != "" {
		t.Errorf("serve has no default role groups; got %+v", serve)
	}
	if i := slices.IndexFunc(serve, func(v Variable) bool { return v.Name == "CTPDESK_AUDIT_WITNESS" }); i < 0 || serve[i].Default != "" {
		t.Errorf("serve has no default audit witness; got %+v", serve)
	}
}

// TestReadmeDocumentsEveryVariable: the README's configuration table names every variable the
// configuration reads, and nothing it does not.
func TestReadmeDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| `(CTPDESK_[A-Z0-9_]+)`((?: / `_[A-Z0-9_]+`)*)")
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
		prefix := m[1][:strings.LastIndex(m[1], "_")]
		for _, suffix := range regexp.MustCompile("`(_[A-Z0-9_]+)`").FindAllStringSubmatch(m[2], -1) {
			// "`CTPDESK_D1_CACHE_TTL` / `_CACHE_SIZE`": the suffix replaces the last words.
			base := prefix
			for !strings.HasSuffix(base, "CTPDESK") && !documented[base+suffix[1]] {
				if name := base + suffix[1]; readVariable(name) {
					documented[name] = true
					break
				}
				base = base[:strings.LastIndex(base, "_")]
			}
		}
	}
	for _, mode := range []Mode{ModeDev, ModeServe} {
		for _, v := range Variables(mode) {
			if !documented[v.Name] {
				t.Errorf("README.md's configuration table does not document %s", v.Name)
			}
		}
	}
	for name := range documented {
		if !readVariable(name) && name != "CTPDESK_TEST_POSTGRES_URL" {
			t.Errorf("README.md documents %s, which the configuration never reads", name)
		}
	}
}

func readVariable(name string) bool {
	for _, mode := range []Mode{ModeDev, ModeServe} {
		for _, v := range Variables(mode) {
			if v.Name == name {
				return true
			}
		}
	}
	return false
}
