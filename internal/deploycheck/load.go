// Package deploycheck validates the Kubernetes manifests in deploy/k8s offline: every YAML
// document is decoded strictly into the typed k8s.io/api structs (an unknown or misspelt
// field is an error, as the API server's strict field validation would report it), and then
// checked against ctpdesk's own rules: probes on /readyz and /healthz, a locked-down
// security context, resources, pinned images, and settings that resolve to a ConfigMap or
// Secret key that exists.
package deploycheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Bundle is every object of a manifest folder, by kind.
type Bundle struct {
	Deployments     []Object[appsv1.Deployment]
	Services        []Object[corev1.Service]
	ConfigMaps      []Object[corev1.ConfigMap]
	Secrets         []Object[corev1.Secret]
	PDBs            []Object[policyv1.PodDisruptionBudget]
	ServiceAccounts []Object[corev1.ServiceAccount]
}

// Object is one decoded document and where it came from (file#document, 1-based), so each
// problem names the place to fix.
type Object[T any] struct {
	Source string
	Value  T
}

// documentSeparator splits a YAML stream into documents.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*(?:#.*)?$`)

// Load decodes every *.yaml and *.yml file directly in dir.
func Load(dir string) (Bundle, error) {
	var names []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return Bundle{}, fmt.Errorf("deploycheck: %w", err)
		}
		names = append(names, m...)
	}
	if len(names) == 0 {
		return Bundle{}, fmt.Errorf("deploycheck: %s holds no .yaml manifests", dir)
	}
	sort.Strings(names)
	var b Bundle
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return Bundle{}, fmt.Errorf("deploycheck: %w", err)
		}
		if err := b.add(filepath.Base(name), data); err != nil {
			return Bundle{}, err
		}
	}
	return b, nil
}

// add decodes each document of one file into the bundle.
func (b *Bundle) add(file string, data []byte) error {
	for i, doc := range documentSeparator.Split(string(data), -1) {
		source := fmt.Sprintf("%s#%d", file, i+1)
		if isBlank([]byte(doc)) {
			continue
		}
		if err := b.decode(source, []byte(doc)); err != nil {
			return err
		}
	}
	return nil
}

// decode reads apiVersion and kind, then decodes the whole document strictly into the
// matching type.
func (b *Bundle) decode(source string, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("deploycheck: %s: %w", source, err)
	}
	var err error
	switch gvk := tm.APIVersion + " " + tm.Kind; gvk {
	case "apps/v1 Deployment":
		b.Deployments, err = appendStrict(b.Deployments, source, doc)
	case "v1 Service":
		b.Services, err = appendStrict(b.Services, source, doc)
	case "v1 ConfigMap":
		b.ConfigMaps, err = appendStrict(b.ConfigMaps, source, doc)
	case "v1 Secret":
		b.Secrets, err = appendStrict(b.Secrets, source, doc)
	case "policy/v1 PodDisruptionBudget":
		b.PDBs, err = appendStrict(b.PDBs, source, doc)
	case "v1 ServiceAccount":
		b.ServiceAccounts, err = appendStrict(b.ServiceAccounts, source, doc)
	default:
		return fmt.Errorf("deploycheck: %s: apiVersion %q kind %q is not one this check knows "+
			"(apps/v1 Deployment, v1 Service/ConfigMap/Secret/ServiceAccount, policy/v1 PodDisruptionBudget)",
			source, tm.APIVersion, tm.Kind)
	}
	return err
}

// appendStrict decodes doc into a new T the way the API server's strict field validation
// does: YAML duplicate keys, unknown fields (reported with their path, e.g.
// "spec.template.spec.replicas") and field names in the wrong case are all errors. A name is
// required.
func appendStrict[T any](list []Object[T], source string, doc []byte) ([]Object[T], error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("deploycheck: %s: %w", source, err)
	}
	var v T
	strictErrs, err := kjson.UnmarshalStrict(js, &v)
	if err != nil {
		return nil, fmt.Errorf("deploycheck: %s: %w", source, err)
	}
	if len(strictErrs) > 0 {
		return nil, fmt.Errorf("deploycheck: %s: %w", source, errors.Join(strictErrs...))
	}
	if meta, ok := any(&v).(metav1.Object); ok && meta.GetName() == "" {
		return nil, fmt.Errorf("deploycheck: %s: metadata.name is missing", source)
	}
	return append(list, Object[T]{Source: source, Value: v}), nil
}

// isBlank reports whether a document holds only comments and whitespace.
func isBlank(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}
