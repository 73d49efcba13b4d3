package deploycheck

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func checkDeployment(p *problems, b Bundle, o Object[appsv1.Deployment], opts Options) {
	d := o.Value
	obj := "Deployment/" + d.Name
	fail := func(format string, args ...any) { p.add(o.Source, obj, format, args...) }

	if d.Spec.Replicas == nil || *d.Spec.Replicas < opts.MinReplicas {
		fail("spec.replicas must be at least %d so one replica can fail or roll without an outage", opts.MinReplicas)
	}
	if d.Spec.Strategy.Type != "" && d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		fail("spec.strategy.type must be RollingUpdate")
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || !isZero(*ru.MaxUnavailable) {
		fail("spec.strategy.rollingUpdate.maxUnavailable must be 0: a rollout may never reduce serving replicas")
	}
	if !selects(d.Spec.Selector, d.Spec.Template.Labels) {
		fail("spec.selector does not select the pod template's labels")
	}

	pod := d.Spec.Template.Spec
	podSC := pod.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		fail("spec.template.spec.automountServiceAccountToken must be false: ctpdesk never calls the Kubernetes API")
	}
	if podSC.RunAsUser != nil && *podSC.RunAsUser == 0 {
		fail("the pod securityContext runs as root (runAsUser 0)")
	}
	if len(pod.Containers) == 0 {
		fail("has no containers")
	}

	env := envResolver{bundle: b}
	for i, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		where := "container " + c.Name
		main := i >= len(pod.InitContainers)
		checkImage(fail, where, c.Image)
		checkContainerSecurity(fail, where, c.SecurityContext, podSC)
		checkResources(fail, where, c.Resources)
		checkVolumeMounts(fail, where, c.VolumeMounts, pod.Volumes)
		values := env.check(fail, where, c)
		if !main {
			continue
		}
		for _, name := range opts.RequiredEnv {
			if _, ok := values[name]; !ok {
				fail("%s: %s is not set; `ctpdesk serve` refuses to start without it", where, name)
			}
		}
		checkAddr(fail, where, values["CTPDESK_ADDR"], c)
		checkFileSettings(fail, where, values, c.VolumeMounts, pod.Volumes, b)
		checkProbe(fail, where, "readinessProbe", c.ReadinessProbe, "/readyz", c)
		checkProbe(fail, where, "livenessProbe", c.LivenessProbe, "/healthz", c)
		if c.StartupProbe != nil {
			checkProbe(fail, where, "startupProbe", c.StartupProbe, "/healthz", c)
		}
		checkGrace(fail, where, pod.TerminationGracePeriodSeconds, values["CTPDESK_SHUTDOWN_GRACE"], c.Lifecycle, opts)
	}
	for _, v := range pod.Volumes {
		checkVolumeSource(fail, b, v)
	}
	if pod.ServiceAccountName != "" && len(b.ServiceAccounts) > 0 &&
		!slices.ContainsFunc(b.ServiceAccounts, func(sa Object[corev1.ServiceAccount]) bool { return sa.Value.Name == pod.ServiceAccountName }) {
		fail("serviceAccountName %q is not defined", pod.ServiceAccountName)
	}
}

func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	return strings.TrimSuffix(v.StrVal, "%") == "0"
}

// selects reports whether a non-empty label selector matches a set of labels.
func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(set))
}

// checkImage wants a registry path with a tag or digest, and the tag must not be "latest":
// a rollout or a rescheduled pod must run exactly the reviewed build.
func checkImage(fail func(string, ...any), where, image string) {
	if image == "" {
		fail("%s: image is empty", where)
		return
	}
	if strings.Contains(image, "@sha256:") {
		return
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok || tag == "":
		fail("%s: image %q has no tag or digest (it would mean :latest)", where, image)
	case tag == "latest":
		fail("%s: image %q uses :latest; pin a release tag or a digest", where, image)
	}
}

func checkContainerSecurity(fail func(string, ...any), where string, sc *corev1.SecurityContext, pod *corev1.PodSecurityContext) {
	if sc == nil {
		fail("%s: securityContext is missing", where)
		sc = &corev1.SecurityContext{}
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("%s: securityContext.allowPrivilegeEscalation must be false", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail("%s: securityContext.readOnlyRootFilesystem must be true", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		fail("%s: securityContext.privileged must not be true", where)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		fail("%s: securityContext.capabilities.drop must include ALL", where)
	} else if len(sc.Capabilities.Add) > 0 {
		fail("%s: securityContext.capabilities.add must be empty, got %v", where, sc.Capabilities.Add)
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) ||
		(sc.RunAsNonRoot == nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot)
	if !nonRoot {
		fail("%s: runAsNonRoot must be true (container or pod securityContext)", where)
	}
	if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		fail("%s: runs as root (runAsUser 0)", where)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = pod.SeccompProfile
	}
	if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
		fail("%s: seccompProfile must be RuntimeDefault (container or pod securityContext)", where)
	}
}

func checkResources(fail func(string, ...any), where string, r corev1.ResourceRequirements) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim, hasLim := r.Limits[name]
		if !hasReq || req.IsZero() {
			fail("%s: resources.requests.%s must be set", where, name)
		}
		if !hasLim || lim.IsZero() {
			fail("%s: resources.limits.%s must be set", where, name)
		}
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			fail("%s: resources.requests.%s %s exceeds the limit %s", where, name, req.String(), lim.String())
		}
	}
}

func checkVolumeMounts(fail func(string, ...any), where string, mounts []corev1.VolumeMount, volumes []corev1.Volume) {
	for _, m := range mounts {
		if !slices.ContainsFunc(volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
			fail("%s: volumeMount %q names no volume of the pod", where, m.Name)
		}
	}
}

// checkAddr makes sure the app listens where probes and the Service connect: not on
// loopback, and on a declared container port.
func checkAddr(fail func(string, ...any), where, addr string, c corev1.Container) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fail("%s: CTPDESK_ADDR %q is not host:port", where, addr)
		return
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		fail("%s: CTPDESK_ADDR %q listens on loopback; probes and the Service cannot reach it", where, addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return int(p.ContainerPort) == n }) {
		fail("%s: CTPDESK_ADDR port %s is not a containerPort of the container", where, port)
	}
}

func checkProbe(fail func(string, ...any), where, field string, probe *corev1.Probe, path string, c corev1.Container) {
	if probe == nil {
		fail("%s: %s is missing (want an httpGet on %s)", where, field, path)
		return
	}
	if probe.HTTPGet == nil {
		fail("%s: %s must be an httpGet on %s", where, field, path)
		return
	}
	if probe.HTTPGet.Path != path {
		fail("%s: %s checks %q, want %q", where, field, probe.HTTPGet.Path, path)
	}
	if !portDeclared(c, probe.HTTPGet.Port) {
		fail("%s: %s port %s is not a port of the container", where, field, probe.HTTPGet.Port.String())
	}
}

// portDeclared resolves a named or numbered port against a container's ports.
func portDeclared(c corev1.Container, port intstr.IntOrString) bool {
	return slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool {
		if port.Type == intstr.String {
			return p.Name == port.StrVal
		}
		return p.ContainerPort == port.IntVal
	})
}

// checkGrace makes the kubelet wait longer than the preStop pause plus the app's own drain
// time, so SIGKILL never cuts off requests still being answered.
func checkGrace(fail func(string, ...any), where string, grace *int64, shutdown string, lc *corev1.Lifecycle, opts Options) {
	drain := opts.DefaultShutdownGrace
	if shutdown != "" {
		d, err := time.ParseDuration(shutdown)
		if err != nil {
			fail("%s: CTPDESK_SHUTDOWN_GRACE %q is not a duration", where, shutdown)
			return
		}
		drain = d
	}
	if lc != nil && lc.PreStop != nil && lc.PreStop.Sleep != nil {
		drain += time.Duration(lc.PreStop.Sleep.Seconds) * time.Second
	}
	total := 30 * time.Second // the Kubernetes default
	if grace != nil {
		total = time.Duration(*grace) * time.Second
	}
	if total <= drain {
		fail("%s: terminationGracePeriodSeconds (%s) must exceed the preStop pause plus CTPDESK_SHUTDOWN_GRACE (%s)", where, total, drain)
	}
}

// checkFileSettings follows every CTPDESK_*_FILE setting to the mounted volume that must
// provide it, and to the Secret or ConfigMap key behind that file, so a renamed key or a
// wrong path fails here rather than at start-up in the cluster.
func checkFileSettings(fail func(string, ...any), where string, values map[string]string, mounts []corev1.VolumeMount, volumes []corev1.Volume, b Bundle) {
	r := envResolver{bundle: b}
	for name, path := range values {
		if !strings.HasSuffix(name, "_FILE") || path == "" || path == secretValue {
			continue
		}
		var mount *corev1.VolumeMount
		rel := ""
		for i := range mounts {
			if rest, ok := strings.CutPrefix(path, strings.TrimSuffix(mounts[i].MountPath, "/")+"/"); ok {
				mount, rel = &mounts[i], rest
			}
		}
		if mount == nil {
			fail("%s: %s=%s is not under any volumeMount", where, name, path)
			continue
		}
		i := slices.IndexFunc(volumes, func(v corev1.Volume) bool { return v.Name == mount.Name })
		if i < 0 {
			continue // reported by checkVolumeMounts
		}
		v := volumes[i]
		var items []corev1.KeyToPath
		var hasKey func(string) bool
		switch {
		case v.Secret != nil:
			items = v.Secret.Items
			if s := r.secret(v.Secret.SecretName); s != nil {
				hasKey = func(k string) bool { return secretHas(s, k) }
			}
		case v.ConfigMap != nil:
			items = v.ConfigMap.Items
			if cm := r.configMap(v.ConfigMap.Name); cm != nil {
				hasKey = func(k string) bool { _, ok := cm.Data[k]; return ok }
			}
		default:
			continue // emptyDir and others are filled at run time
		}
		if hasKey == nil {
			continue // the missing object is reported by checkVolumeSource
		}
		if len(items) > 0 {
			if !slices.ContainsFunc(items, func(it corev1.KeyToPath) bool { return it.Path == rel }) {
				fail("%s: %s=%s: volume %s projects no file %q", where, name, path, v.Name, rel)
			}
			continue
		}
		if !hasKey(rel) {
			fail("%s: %s=%s: volume %s has no key %q", where, name, path, v.Name, rel)
		}
	}
}
