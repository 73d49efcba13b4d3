package deploycheck

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// secretValue stands for a value read from a Secret: the check knows it is set, never what
// it is.
const secretValue = "(from a Secret)"

// envResolver follows a container's settings to the ConfigMaps and Secrets of the bundle.
type envResolver struct{ bundle Bundle }

func (r envResolver) configMap(name string) *corev1.ConfigMap {
	for i := range r.bundle.ConfigMaps {
		if r.bundle.ConfigMaps[i].Value.Name == name {
			return &r.bundle.ConfigMaps[i].Value
		}
	}
	return nil
}

func (r envResolver) secret(name string) *corev1.Secret {
	for i := range r.bundle.Secrets {
		if r.bundle.Secrets[i].Value.Name == name {
			return &r.bundle.Secrets[i].Value
		}
	}
	return nil
}

func secretHas(s *corev1.Secret, key string) bool {
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	return inData || inString
}

// check verifies every env and envFrom reference of c and returns the settings it ends up
// with: literal and ConfigMap values as written, Secret values as secretValue.
func (r envResolver) check(fail func(string, ...any), where string, c corev1.Container) map[string]string {
	values := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := r.configMap(from.ConfigMapRef.Name)
			if cm == nil {
				fail("%s: envFrom names ConfigMap %q, which is not defined", where, from.ConfigMapRef.Name)
				continue
			}
			for k, v := range cm.Data {
				values[from.Prefix+k] = v
			}
		case from.SecretRef != nil:
			s := r.secret(from.SecretRef.Name)
			if s == nil {
				fail("%s: envFrom names Secret %q, which is not defined", where, from.SecretRef.Name)
				continue
			}
			for k := range s.Data {
				values[from.Prefix+k] = secretValue
			}
			for k := range s.StringData {
				values[from.Prefix+k] = secretValue
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			fail("%s: env %s is set twice", where, e.Name)
		}
		seen[e.Name] = true
		switch {
		case e.ValueFrom == nil:
			if IsSecretName(e.Name) && e.Value != "" {
				fail("%s: env %s is a credential written inline; take it from a Secret", where, e.Name)
			}
			values[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			if IsSecretName(e.Name) {
				fail("%s: env %s is a credential taken from ConfigMap %q; take it from a Secret", where, e.Name, ref.Name)
			}
			cm := r.configMap(ref.Name)
			v, ok := "", false
			if cm != nil {
				v, ok = cm.Data[ref.Key]
			}
			if !ok {
				if ref.Optional == nil || !*ref.Optional {
					fail("%s: env %s reads key %q of ConfigMap %q, which does not exist", where, e.Name, ref.Key, ref.Name)
				}
				continue
			}
			values[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s := r.secret(ref.Name)
			if s == nil || !secretHas(s, ref.Key) {
				if ref.Optional == nil || !*ref.Optional {
					fail("%s: env %s reads key %q of Secret %q, which does not exist", where, e.Name, ref.Key, ref.Name)
				}
				continue
			}
			values[e.Name] = secretValue
		default:
			// fieldRef and resourceFieldRef come from the pod itself.
			values[e.Name] = ""
		}
	}
	return values
}

// checkVolumeSource verifies that Secret and ConfigMap volumes name objects and keys that
// exist.
func checkVolumeSource(fail func(string, ...any), b Bundle, v corev1.Volume) {
	r := envResolver{bundle: b}
	switch {
	case v.Secret != nil:
		s := r.secret(v.Secret.SecretName)
		if s == nil {
			if v.Secret.Optional == nil || !*v.Secret.Optional {
				fail("volume %s: Secret %q is not defined", v.Name, v.Secret.SecretName)
			}
			return
		}
		for _, item := range v.Secret.Items {
			if !secretHas(s, item.Key) {
				fail("volume %s: Secret %q has no key %q", v.Name, v.Secret.SecretName, item.Key)
			}
		}
	case v.ConfigMap != nil:
		cm := r.configMap(v.ConfigMap.Name)
		if cm == nil {
			if v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional {
				fail("volume %s: ConfigMap %q is not defined", v.Name, v.ConfigMap.Name)
			}
			return
		}
		for _, item := range v.ConfigMap.Items {
			if _, ok := cm.Data[item.Key]; !ok {
				fail("volume %s: ConfigMap %q has no key %q", v.Name, v.ConfigMap.Name, item.Key)
			}
		}
	}
}

// selectedDeployment returns the first Deployment whose pods the selector picks.
func selectedDeployment(b Bundle, selector map[string]string) *appsv1.Deployment {
	for i := range b.Deployments {
		tmpl := b.Deployments[i].Value.Spec.Template.Labels
		if len(selector) > 0 && matchesAll(selector, tmpl) {
			return &b.Deployments[i].Value
		}
	}
	return nil
}

func matchesAll(selector, set map[string]string) bool {
	for k, v := range selector {
		if set[k] != v {
			return false
		}
	}
	return true
}

func checkService(p *problems, b Bundle, o Object[corev1.Service]) {
	s := o.Value
	obj := "Service/" + s.Name
	d := selectedDeployment(b, s.Spec.Selector)
	if d == nil {
		p.add(o.Source, obj, "spec.selector %v selects the pods of no Deployment", s.Spec.Selector)
		return
	}
	if len(s.Spec.Ports) == 0 {
		p.add(o.Source, obj, "has no ports")
	}
	for _, port := range s.Spec.Ports {
		target := port.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(port.Port)
		}
		if !slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return portDeclared(c, target) }) {
			p.add(o.Source, obj, "port %s targets %s, which no container of Deployment/%s declares", port.Name, target.String(), d.Name)
		}
	}
}

func checkPDB(p *problems, b Bundle, o Object[policyv1.PodDisruptionBudget]) {
	pdb := o.Value
	obj := "PodDisruptionBudget/" + pdb.Name
	var d *appsv1.Deployment
	for i := range b.Deployments {
		if selects(pdb.Spec.Selector, b.Deployments[i].Value.Spec.Template.Labels) {
			d = &b.Deployments[i].Value
			break
		}
	}
	if d == nil {
		p.add(o.Source, obj, "spec.selector selects the pods of no Deployment")
		return
	}
	switch {
	case (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil):
		p.add(o.Source, obj, "set exactly one of spec.minAvailable and spec.maxUnavailable")
	case pdb.Spec.MaxUnavailable != nil && isZero(*pdb.Spec.MaxUnavailable):
		p.add(o.Source, obj, "spec.maxUnavailable 0 blocks every node drain")
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int && d.Spec.Replicas != nil &&
		pdb.Spec.MinAvailable.IntVal >= *d.Spec.Replicas:
		p.add(o.Source, obj, "spec.minAvailable %d leaves no replica of Deployment/%s evictable", pdb.Spec.MinAvailable.IntVal, d.Name)
	}
}

func checkConfigMap(p *problems, o Object[corev1.ConfigMap]) {
	for key := range o.Value.Data {
		if IsSecretName(key) {
			p.add(o.Source, "ConfigMap/"+o.Value.Name, "key %s is a credential; put it in a Secret", key)
		}
	}
	if len(o.Value.BinaryData) > 0 {
		p.add(o.Source, "ConfigMap/"+o.Value.Name, "binaryData is not expected in ctpdesk settings")
	}
}

// checkSecret enforces that Secrets in the repository are templates: every value carries the
// placeholder marker, so a real credential can never be committed here by accident.
func checkSecret(p *problems, o Object[corev1.Secret], opts Options) {
	obj := "Secret/" + o.Value.Name
	if len(o.Value.Data) > 0 {
		p.add(o.Source, obj, "use stringData with %s placeholders; base64 data hides what is committed", opts.Placeholder)
	}
	for key, v := range o.Value.StringData {
		if !containsFold(v, opts.Placeholder) {
			p.add(o.Source, obj, "value of %s lacks the %s placeholder: real secrets never go into the repository", key, opts.Placeholder)
		}
	}
}
