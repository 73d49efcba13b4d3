package deploycheck

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Options are the facts about ctpdesk the rules need.
type Options struct {
	// RequiredEnv are the settings `ctpdesk serve` refuses to start without; every
	// Deployment container must set each of them.
	RequiredEnv []string
	// DefaultShutdownGrace is CTPDESK_SHUTDOWN_GRACE when the manifests leave it unset.
	DefaultShutdownGrace time.Duration
	// MinReplicas is the fewest replicas a Deployment may ask for.
	MinReplicas int32
	// Placeholder must appear in every Secret value: secrets in git are templates only.
	Placeholder string
}

// DefaultOptions matches the current config.go and the deployment guidance in deploy/README.md.
func DefaultOptions() Options {
	return Options{
		RequiredEnv: []string{
			"CTPDESK_ADDR", // the default 127.0.0.1 is unreachable from probes and the Service
			"CTPDESK_PUBLIC_URL", "CTPDESK_DATABASE_URL", "CTPDESK_ISSUER_DATABASE_URL",
			"CTPDESK_OIDC_ISSUER", "CTPDESK_OIDC_CLIENT_ID", "CTPDESK_AUDIT_HMAC_KEY",
			"CTPDESK_AUDIT_WITNESS", "CTPDESK_D1_AUTHZ_URL", "CTPDESK_D1_BANKING_URL", "CTPDESK_D1_ISSUER_ID",
			"CTPDESK_D1_SIGNING_KEY_FILE", "CTPDESK_D1_KEY_ID",
		},
		DefaultShutdownGrace: 20 * time.Second,
		MinReplicas:          2,
		Placeholder:          "CHANGE-ME",
	}
}

// secretName matches setting names whose values are credentials: they must come from a
// Secret, never from a ConfigMap or an inline value. Paths to key files (…_KEY_FILE) and key
// identifiers (…_KEY_ID) are not secrets themselves.
var secretName = regexp.MustCompile(`(SECRET|PASSWORD|PASSWD|TOKEN|HMAC|PRIVATE|DATABASE_URL|_KEY)$`)

// IsSecretName reports whether a setting's value is a credential.
func IsSecretName(name string) bool { return secretName.MatchString(strings.ToUpper(name)) }

// problems collects every rule violation, each naming its place.
type problems struct{ errs []error }

func (p *problems) add(source, object, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s %s: %s", source, object, fmt.Sprintf(format, args...)))
}

// Check applies ctpdesk's rules to a loaded bundle and reports every violation at once.
func Check(b Bundle, opts Options) error {
	p := &problems{}
	if len(b.Deployments) == 0 {
		p.errs = append(p.errs, errors.New("deploycheck: no apps/v1 Deployment found"))
	}
	seen := map[string]string{}
	unique := func(kind, name, source string) {
		key := kind + "/" + name
		if first, dup := seen[key]; dup {
			p.add(source, key, "is defined twice (first in %s)", first)
		}
		seen[key] = source
	}
	for _, d := range b.Deployments {
		unique("Deployment", d.Value.Name, d.Source)
		checkDeployment(p, b, d, opts)
	}
	for _, s := range b.Services {
		unique("Service", s.Value.Name, s.Source)
		checkService(p, b, s)
	}
	for _, pdb := range b.PDBs {
		unique("PodDisruptionBudget", pdb.Value.Name, pdb.Source)
		checkPDB(p, b, pdb)
	}
	for _, cm := range b.ConfigMaps {
		unique("ConfigMap", cm.Value.Name, cm.Source)
		checkConfigMap(p, cm)
	}
	for _, s := range b.Secrets {
		unique("Secret", s.Value.Name, s.Source)
		checkSecret(p, s, opts)
	}
	for _, sa := range b.ServiceAccounts {
		unique("ServiceAccount", sa.Value.Name, sa.Source)
	}
	if len(b.Services) == 0 {
		p.errs = append(p.errs, errors.New("deploycheck: no v1 Service found"))
	}
	if len(b.PDBs) == 0 {
		p.errs = append(p.errs, errors.New("deploycheck: no policy/v1 PodDisruptionBudget found"))
	}
	return errors.Join(p.errs...)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToUpper(s), strings.ToUpper(sub))
}
