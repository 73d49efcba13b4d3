package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctpdesk/internal/deploycheck"
)

// TestDeployManifestSettingsLoadInServeMode feeds the settings the Kubernetes Deployment in
// deploy/k8s gives its container to config.Load in serve mode: the ConfigMap values as they are
// written, and freshly generated stand-ins for the Secret placeholders. A typo or an invalid
// value in the manifests fails here, with the variable named, instead of in a crash-looping pod.
// Files the settings point at (CTPDESK_*_FILE) are created under a temporary folder standing
// for the container's mounts; the D1 signing key is a real, freshly generated P-256 key.
func TestDeployManifestSettingsLoadInServeMode(t *testing.T) {
	b, err := deploycheck.Load("../../deploy/k8s")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Deployments) != 1 || len(b.ConfigMaps) == 0 {
		t.Fatalf("want one Deployment and its ConfigMap in deploy/k8s")
	}
	configMaps := map[string]map[string]string{}
	for _, cm := range b.ConfigMaps {
		configMaps[cm.Value.Name] = cm.Value.Data
	}
	random := func() string {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(buf)
	}
	// Stand-ins with the shape production values have; the committed Secret holds placeholders.
	secrets := map[string]string{
		"CTPDESK_DATABASE_URL":        "postgres://ctpdesk:" + random() + "@db.example.internal:5432/ctpdesk?sslmode=verify-full",
		"CTPDESK_ISSUER_DATABASE_URL": "postgres://reader:" + random() + "@replica.example.internal:5432/issuer?sslmode=verify-full",
		"CTPDESK_OIDC_CLIENT_SECRET":  random(),
		"CTPDESK_AUDIT_HMAC_KEY":      random(),
	}

	env := map[string]string{}
	for _, e := range b.Deployments[0].Value.Spec.Template.Spec.Containers[0].Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			env[e.Name] = configMaps[e.ValueFrom.ConfigMapKeyRef.Name][e.ValueFrom.ConfigMapKeyRef.Key]
		case e.ValueFrom.SecretKeyRef != nil:
			v, ok := secrets[e.ValueFrom.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("%s comes from Secret key %s, which this test has no stand-in for; add one", e.Name, e.ValueFrom.SecretKeyRef.Key)
			}
			env[e.Name] = v
		}
	}
	mounts := b.Deployments[0].Value.Spec.Template.Spec.Containers[0].VolumeMounts
	root := t.TempDir()
	for name, path := range env {
		if !strings.HasSuffix(name, "_FILE") {
			continue
		}
		local := ""
		for _, m := range mounts {
			if rel, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/"); ok {
				local = filepath.Join(root, m.Name, rel)
			}
		}
		if local == "" {
			t.Fatalf("%s=%s is not under any volumeMount of the container", name, path)
		}
		content := []byte("synthetic file; only its presence is checked at start\n")
		if name == "CTPDESK_D1_SIGNING_KEY_FILE" {
			content = mustGenerateSigningKeyPEM(t)
		}
		if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(local, content, 0o600); err != nil {
			t.Fatal(err)
		}
		env[name] = local
	}
	if _, err := Load(func(name string) string { return env[name] }, ModeServe); err != nil {
		t.Fatalf("deploy/k8s settings are rejected by 'ctpdesk serve':\n%v", err)
	}
}

// mustGenerateSigningKeyPEM returns a new P-256 private key in PKCS#8 PEM, as the D1 signing
// key Secret holds in production.
func mustGenerateSigningKeyPEM(tb testing.TB) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
