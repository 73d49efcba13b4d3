package deploycheck

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const manifests = "../../deploy/k8s"

// edit changes one file of a copy of deploy/k8s. old must occur exactly once unless all is
// set, so a test can never pass because its edit silently did nothing.
type edit struct {
	file, old, new string
	all            bool
}

// mustMutatedCopy copies deploy/k8s to a temporary folder and applies the edits.
func mustMutatedCopy(tb testing.TB, edits ...edit) string {
	tb.Helper()
	dir := tb.TempDir()
	entries, err := os.ReadDir(manifests)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(manifests, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		text := string(b)
		for _, ed := range edits {
			if ed.file != e.Name() {
				continue
			}
			n := strings.Count(text, ed.old)
			if n == 0 || (n > 1 && !ed.all) {
				tb.Fatalf("edit of %s: %q occurs %d times", ed.file, ed.old, n)
			}
			text = strings.ReplaceAll(text, ed.old, ed.new)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// loadAndCheck runs both stages, as the command does.
func loadAndCheck(dir string) error {
	b, err := Load(dir)
	if err != nil {
		return err
	}
	return Check(b, DefaultOptions())
}

func TestRepositoryManifestsPass(t *testing.T) {
	b, err := Load(manifests)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(b, DefaultOptions()); err != nil {
		t.Fatalf("deploy/k8s fails its own check:\n%v", err)
	}
	if len(b.Deployments) != 1 || len(b.Services) != 1 || len(b.PDBs) != 1 || len(b.ConfigMaps) != 1 || len(b.Secrets) != 2 {
		t.Errorf("loaded %d deployments, %d services, %d PDBs, %d config maps, %d secrets; want 1, 1, 1, 1, 2",
			len(b.Deployments), len(b.Services), len(b.PDBs), len(b.ConfigMaps), len(b.Secrets))
	}
	d := b.Deployments[0].Value
	if got := d.Spec.Template.Spec.Volumes[0].Secret.DefaultMode; got == nil || *got != 0o440 {
		t.Errorf("defaultMode 0440 decoded as %v, want octal 0440", got)
	}
}

func TestStrictDecodingRejectsBrokenManifests(t *testing.T) {
	tests := []struct {
		name string
		edit edit
		want string
	}{
		{"misspelt field", edit{file: "deployment.yaml", old: "minReadySeconds: 5", new: "minReadySecond: 5"}, `unknown field "spec.minReadySecond"`},
		{"field at the wrong level", edit{file: "deployment.yaml", old: "      serviceAccountName: ctpdesk\n", new: "      replicas: 3\n      serviceAccountName: ctpdesk\n"}, `unknown field "spec.template.spec.replicas"`},
		{"duplicate key", edit{file: "deployment.yaml", old: "  replicas: 2\n", new: "  replicas: 2\n  replicas: 3\n"}, `"replicas" already set`},
		{"wrong type", edit{file: "deployment.yaml", old: "  replicas: 2\n", new: "  replicas: two\n"}, "cannot unmarshal string"},
		{"field name in the wrong case", edit{file: "deployment.yaml", old: "minReadySeconds: 5", new: "MinReadySeconds: 5"}, `unknown field "spec.MinReadySeconds"`},
		{"unknown probe field", edit{file: "deployment.yaml", old: "httpGet: {path: /readyz, port: http}", new: "httpGet: {path: /readyz, port: http, host2: x}"}, `unknown field "spec.template.spec.containers[0].readinessProbe.httpGet.host2"`},
		{"old API version", edit{file: "pdb.yaml", old: "apiVersion: policy/v1\n", new: "apiVersion: policy/v1beta1\n"}, `apiVersion "policy/v1beta1" kind "PodDisruptionBudget" is not one this check knows`},
		{"unknown kind", edit{file: "service.yaml", old: "kind: Service\n", new: "kind: Ingress\n"}, `kind "Ingress" is not one this check knows`},
		{"no name", edit{file: "service.yaml", old: "  name: ctpdesk\n", new: ""}, "metadata.name is missing"},
		{"not YAML", edit{file: "pdb.yaml", old: "spec:\n", new: "spec: [\n"}, "pdb.yaml#1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadAndCheck(mustMutatedCopy(t, tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadRejectsAnEmptyFolder(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no .yaml") {
		t.Fatalf("error = %v", err)
	}
}

func TestLoadSkipsCommentOnlyDocuments(t *testing.T) {
	dir := mustMutatedCopy(t, edit{file: "pdb.yaml", old: "apiVersion: policy/v1\n", new: "# leading note\n---\n# only a comment\n---\napiVersion: policy/v1\n"})
	if err := loadAndCheck(dir); err != nil {
		t.Fatalf("comment-only documents should be skipped: %v", err)
	}
}

func TestRulesRejectBrokenManifests(t *testing.T) {
	probeBlock := func(name, path string) string {
		return "          " + name + ":\n            httpGet: {path: " + path + ", port: http}\n"
	}
	tests := []struct {
		name  string
		edits []edit
		want  string
	}{
		{"readiness probe on the wrong path", []edit{{file: "deployment.yaml", old: "path: /readyz", new: "path: /healthz"}}, `readinessProbe checks "/healthz", want "/readyz"`},
		{"liveness probe on readyz", []edit{{file: "deployment.yaml", old: probeBlock("livenessProbe", "/healthz"), new: probeBlock("livenessProbe", "/readyz")}}, `livenessProbe checks "/readyz", want "/healthz"`},
		{"probe on an undeclared port", []edit{{file: "deployment.yaml", old: "httpGet: {path: /readyz, port: http}", new: "httpGet: {path: /readyz, port: 9090}"}}, "readinessProbe port 9090 is not a port of the container"},
		{"latest image", []edit{{file: "deployment.yaml", old: "ctpdesk:0.1.0", new: "ctpdesk:latest"}}, "uses :latest"},
		{"untagged image", []edit{{file: "deployment.yaml", old: "ctpdesk:0.1.0", new: "ctpdesk"}}, "has no tag or digest"},
		{"one replica", []edit{{file: "deployment.yaml", old: "  replicas: 2\n", new: "  replicas: 1\n"}}, "spec.replicas must be at least 2"},
		{"rollout may drop a replica", []edit{{file: "deployment.yaml", old: "maxUnavailable: 0", new: "maxUnavailable: 1"}}, "maxUnavailable must be 0"},
		{"writable root filesystem", []edit{{file: "deployment.yaml", old: "readOnlyRootFilesystem: true", new: "readOnlyRootFilesystem: false"}}, "readOnlyRootFilesystem must be true"},
		{"capabilities kept", []edit{{file: "deployment.yaml", old: `drop: ["ALL"]`, new: `drop: ["NET_RAW"]`}}, "capabilities.drop must include ALL"},
		{"privilege escalation", []edit{{file: "deployment.yaml", old: "allowPrivilegeEscalation: false", new: "allowPrivilegeEscalation: true"}}, "allowPrivilegeEscalation must be false"},
		{"seccomp unconfined", []edit{{file: "deployment.yaml", old: "type: RuntimeDefault", new: "type: Unconfined", all: true}}, "seccompProfile must be RuntimeDefault"},
		{"root allowed", []edit{{file: "deployment.yaml", old: "runAsNonRoot: true", new: "runAsNonRoot: false", all: true}}, "runAsNonRoot must be true"},
		{"service account token mounted", []edit{{file: "deployment.yaml", old: "      automountServiceAccountToken: false\n", new: ""}}, "automountServiceAccountToken must be false"},
		{"no memory limit", []edit{{file: "deployment.yaml", old: "              memory: 512Mi\n", new: ""}}, "resources.limits.memory must be set"},
		{"request above limit", []edit{{file: "deployment.yaml", old: "memory: 512Mi", new: "memory: 64Mi"}}, "requests.memory 128Mi exceeds the limit 64Mi"},
		{"grace period too short", []edit{{file: "deployment.yaml", old: "terminationGracePeriodSeconds: 40", new: "terminationGracePeriodSeconds: 25"}}, "terminationGracePeriodSeconds (25s) must exceed the preStop pause plus CTPDESK_SHUTDOWN_GRACE (25s)"},
		{"shutdown grace raised past the grace period", []edit{{file: "configmap.yaml", old: `CTPDESK_SHUTDOWN_GRACE: "20s"`, new: `CTPDESK_SHUTDOWN_GRACE: "1m"`}}, "(1m5s)"},
		{"shutdown grace not a duration", []edit{{file: "configmap.yaml", old: `CTPDESK_SHUTDOWN_GRACE: "20s"`, new: `CTPDESK_SHUTDOWN_GRACE: "soon"`}}, `CTPDESK_SHUTDOWN_GRACE "soon" is not a duration`},
		{"env key missing from the ConfigMap", []edit{{file: "configmap.yaml", old: "  CTPDESK_LOG_LEVEL: \"info\"\n", new: ""}}, `env CTPDESK_LOG_LEVEL reads key "CTPDESK_LOG_LEVEL" of ConfigMap "ctpdesk-config", which does not exist`},
		{"env key missing from the Secret", []edit{{file: "secret.yaml", old: "  CTPDESK_AUDIT_HMAC_KEY:", new: "  CTPDESK_AUDIT_KEY:"}}, `reads key "CTPDESK_AUDIT_HMAC_KEY" of Secret "ctpdesk-secrets", which does not exist`},
		{"env from an undefined ConfigMap", []edit{{file: "deployment.yaml", old: "{configMapKeyRef: {name: ctpdesk-config, key: CTPDESK_ADDR}}", new: "{configMapKeyRef: {name: ctpdesk-cfg, key: CTPDESK_ADDR}}"}}, `of ConfigMap "ctpdesk-cfg", which does not exist`},
		{"required setting missing", []edit{{file: "deployment.yaml", old: "            - name: CTPDESK_D1_KEY_ID\n              valueFrom: {configMapKeyRef: {name: ctpdesk-config, key: CTPDESK_D1_KEY_ID}}\n", new: ""}}, "CTPDESK_D1_KEY_ID is not set"},
		{"credential inline", []edit{{file: "deployment.yaml", old: "            - name: CTPDESK_OIDC_CLIENT_SECRET\n              valueFrom: {secretKeyRef: {name: ctpdesk-secrets, key: CTPDESK_OIDC_CLIENT_SECRET}}\n", new: "            - name: CTPDESK_OIDC_CLIENT_SECRET\n              value: hunter2\n"}}, "CTPDESK_OIDC_CLIENT_SECRET is a credential written inline"},
		{"credential in the ConfigMap", []edit{{file: "configmap.yaml", old: "  CTPDESK_LOG_LEVEL: \"info\"\n", new: "  CTPDESK_LOG_LEVEL: \"info\"\n  CTPDESK_OIDC_CLIENT_SECRET: \"x\"\n"}}, "key CTPDESK_OIDC_CLIENT_SECRET is a credential; put it in a Secret"},
		{"real secret committed", []edit{{file: "secret.yaml", old: `CTPDESK_OIDC_CLIENT_SECRET: "CHANGE-ME"`, new: `CTPDESK_OIDC_CLIENT_SECRET: "s3cr3t-value"`}}, "value of CTPDESK_OIDC_CLIENT_SECRET lacks the CHANGE-ME placeholder"},
		{"base64 secret data", []edit{{file: "secret.yaml", old: "stringData:\n  # ES256", new: "data:\n  x: eHg=\nstringData:\n  # ES256"}}, "use stringData"},
		{"loopback listen address", []edit{{file: "configmap.yaml", old: `"0.0.0.0:8080"`, new: `"127.0.0.1:8080"`}}, "listens on loopback"},
		{"listen port not declared", []edit{{file: "configmap.yaml", old: `"0.0.0.0:8080"`, new: `"0.0.0.0:9000"`}}, "CTPDESK_ADDR port 9000 is not a containerPort"},
		{"mounted key missing from the Secret", []edit{{file: "secret.yaml", old: "  ca.crt:", new: "  ca.pem:"}}, `Secret "ctpdesk-d1-credentials" has no key "ca.crt"`},
		{"file setting outside every mount", []edit{{file: "configmap.yaml", old: `"/etc/ctpdesk/d1/ca.crt"`, new: `"/etc/ssl/ca.crt"`}}, "CTPDESK_D1_CA_FILE=/etc/ssl/ca.crt is not under any volumeMount"},
		{"file setting naming a file the volume lacks", []edit{{file: "configmap.yaml", old: `"/etc/ctpdesk/d1/client.key"`, new: `"/etc/ctpdesk/d1/client-key.pem"`}}, `volume d1-credentials projects no file "client-key.pem"`},
		{"mount of an undeclared volume", []edit{{file: "deployment.yaml", old: "- name: tmp\n              mountPath: /tmp", new: "- name: scratch\n              mountPath: /tmp"}}, `volumeMount "scratch" names no volume`},
		{"service selects nothing", []edit{{file: "service.yaml", old: "app.kubernetes.io/component: web", new: "app.kubernetes.io/component: api"}}, "selects the pods of no Deployment"},
		{"service targets an unknown port", []edit{{file: "service.yaml", old: "targetPort: http", new: "targetPort: metrics"}}, "targets metrics, which no container"},
		{"PDB blocks all evictions", []edit{{file: "pdb.yaml", old: "maxUnavailable: 1", new: "minAvailable: 2"}}, "spec.minAvailable 2 leaves no replica"},
		{"PDB selects nothing", []edit{{file: "pdb.yaml", old: "app.kubernetes.io/component: web", new: "app.kubernetes.io/component: api"}}, "PodDisruptionBudget/ctpdesk: spec.selector selects the pods of no Deployment"},
		{"undefined service account", []edit{{file: "deployment.yaml", old: "serviceAccountName: ctpdesk", new: "serviceAccountName: default-sa"}}, `serviceAccountName "default-sa" is not defined`},
		{"duplicate object", []edit{{file: "pdb.yaml", old: "apiVersion: policy/v1\n", new: "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ctpdesk\n---\napiVersion: policy/v1\n"}}, "ServiceAccount/ctpdesk: is defined twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadAndCheck(mustMutatedCopy(t, tt.edits...))
			if err == nil {
				t.Fatal("the broken manifests passed")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error =\n%v\nwant one containing %q", err, tt.want)
			}
		})
	}
}

// Removing a probe block outright must be caught by the rules (the decoder has nothing to
// object to).
func TestMissingProbesAreReported(t *testing.T) {
	for _, probe := range []struct{ block, want string }{
		{"          readinessProbe:\n            httpGet: {path: /readyz, port: http}\n            periodSeconds: 5\n            timeoutSeconds: 2\n            failureThreshold: 3\n", "readinessProbe is missing"},
		{"          livenessProbe:\n            httpGet: {path: /healthz, port: http}\n            periodSeconds: 10\n            timeoutSeconds: 2\n            failureThreshold: 3\n", "livenessProbe is missing"},
	} {
		err := loadAndCheck(mustMutatedCopy(t, edit{file: "deployment.yaml", old: probe.block, new: ""}))
		if err == nil || !strings.Contains(err.Error(), probe.want) {
			t.Errorf("error = %v, want one containing %q", err, probe.want)
		}
	}
}

func TestCheckReportsEveryProblemAtOnce(t *testing.T) {
	err := loadAndCheck(mustMutatedCopy(t,
		edit{file: "deployment.yaml", old: "ctpdesk:0.1.0", new: "ctpdesk:latest"},
		edit{file: "pdb.yaml", old: "maxUnavailable: 1", new: "minAvailable: 2"},
	))
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Fatalf("want exactly two problems, got %v", err)
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"CTPDESK_DATABASE_URL": true, "CTPDESK_ISSUER_DATABASE_URL": true, "CTPDESK_OIDC_CLIENT_SECRET": true,
		"CTPDESK_AUDIT_HMAC_KEY": true, "CTPDESK_SESSION_KEY": true, "API_TOKEN": true, "DB_PASSWORD": true,
		"CTPDESK_D1_SIGNING_KEY_FILE": false, "CTPDESK_D1_KEY_ID": false, "CTPDESK_PUBLIC_URL": false, "GOMEMLIMIT": false,
	} {
		if got := IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%s) = %v, want %v", name, got, want)
		}
	}
}
