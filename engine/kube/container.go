package kube

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// container is the service's one container: image, command, environment,
// resources, probes and what compose sets on the process.
func (m *mapper) container(s types.ServiceConfig) *corev1ac.ContainerApplyConfiguration {
	c := corev1ac.Container().WithName(s.Name).WithImage(s.Image)
	if s.Build != nil && !image.HasRegistry(s.Image) {
		m.warn(s.Name, "build", fmt.Sprintf("image %s names no registry the cluster could pull it from: set the environment's registry", s.Image))
	}
	if policy := pullPolicy(s.PullPolicy); policy != "" {
		c.WithImagePullPolicy(policy)
	}
	if len(s.Entrypoint) > 0 {
		c.WithCommand(escapeAll(s.Entrypoint)...)
	}
	if len(s.Command) > 0 {
		c.WithArgs(escapeAll(s.Command)...)
	}
	if s.WorkingDir != "" {
		c.WithWorkingDir(s.WorkingDir)
	}
	for _, k := range sortedKeys(s.Environment) {
		if v := s.Environment[k]; v != nil {
			c.WithEnv(corev1ac.EnvVar().WithName(k).WithValue(escape(*v)))
		}
	}
	for _, p := range containerPorts(s, m.routePorts(s.Name)...) {
		c.WithPorts(corev1ac.ContainerPort().WithContainerPort(p.port).WithProtocol(p.protocol))
	}
	if r := m.resources(s); r != nil {
		c.WithResources(r)
	}
	if sc := m.securityContext(s); sc != nil {
		c.WithSecurityContext(sc)
	}
	if s.Tty {
		c.WithTTY(true)
	}
	if s.StdinOpen {
		c.WithStdin(true)
	}
	m.probes(s, c)
	m.drain(s, c)
	return c
}

// escape keeps Kubernetes from expanding $(VAR) in a value (env, command,
// args): compose has already interpolated it, and "$$" is Kubernetes' "$".
func escape(v string) string {
	if strings.Contains(v, "$(") || strings.Contains(v, "$$") {
		return strings.ReplaceAll(v, "$", "$$")
	}
	return v
}

func escapeAll(l []string) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = escape(v)
	}
	return out
}

func pullPolicy(p string) corev1.PullPolicy {
	switch p {
	case types.PullPolicyAlways:
		return corev1.PullAlways
	case types.PullPolicyNever:
		return corev1.PullNever
	case types.PullPolicyMissing, types.PullPolicyIfNotPresent:
		return corev1.PullIfNotPresent
	}
	return ""
}

// resources maps deploy.resources (and the service-level mem_limit, cpus,
// mem_reservation when deploy says nothing): limits to limits,
// reservations to requests.
func (m *mapper) resources(s types.ServiceConfig) *corev1ac.ResourceRequirementsApplyConfiguration {
	var limits, reservations types.Resource
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			limits = *l
		}
		if r := s.Deploy.Resources.Reservations; r != nil {
			reservations = *r
		}
	}
	if limits.MemoryBytes == 0 {
		limits.MemoryBytes = s.MemLimit
	}
	if limits.NanoCPUs == 0 {
		limits.NanoCPUs = types.NanoCPUs(s.CPUS)
	}
	if reservations.MemoryBytes == 0 {
		reservations.MemoryBytes = s.MemReservation
	}
	l, r := m.resourceList(s.Name, "limits", limits), m.resourceList(s.Name, "reservations", reservations)
	if s.PidsLimit != 0 {
		m.warn(s.Name, "pids_limit", "the pid limit is the kubelet's, for every pod")
	}
	if len(l) == 0 && len(r) == 0 {
		return nil
	}
	out := corev1ac.ResourceRequirements()
	if len(l) > 0 {
		out.WithLimits(l)
	}
	if len(r) > 0 {
		out.WithRequests(r)
	}
	return out
}

func (m *mapper) resourceList(service, which string, res types.Resource) corev1.ResourceList {
	out := corev1.ResourceList{}
	if res.NanoCPUs > 0 {
		out[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(math.Round(float64(res.NanoCPUs)*1000)), resource.DecimalSI)
	}
	if res.MemoryBytes > 0 {
		out[corev1.ResourceMemory] = *resource.NewQuantity(int64(res.MemoryBytes), resource.BinarySI)
	}
	field := "deploy.resources." + which
	if res.Pids != 0 {
		m.warn(service, field+".pids", "the pid limit is the kubelet's, for every pod")
	}
	if len(res.Devices) > 0 || len(res.GenericResources) > 0 {
		m.warn(service, field+".devices/generic_resources", "request extended resources (nvidia.com/gpu) through a device plugin")
	}
	return out
}

// securityContext maps user, read_only, privileged and the capabilities.
func (m *mapper) securityContext(s types.ServiceConfig) *corev1ac.SecurityContextApplyConfiguration {
	sc := corev1ac.SecurityContext()
	set := false
	if s.User != "" {
		u, g, hasGroup := strings.Cut(s.User, ":")
		uid, err := strconv.ParseInt(u, 10, 64)
		gid, gerr := strconv.ParseInt(g, 10, 64)
		switch {
		case err != nil || (hasGroup && gerr != nil):
			m.warn(s.Name, "user", fmt.Sprintf("%q: a pod runs as a numeric uid[:gid] only; the image's user is kept", s.User))
		default:
			sc.WithRunAsUser(uid)
			if hasGroup {
				sc.WithRunAsGroup(gid)
			}
			set = true
		}
	}
	if s.ReadOnly {
		sc.WithReadOnlyRootFilesystem(true)
		set = true
	}
	if s.Privileged {
		sc.WithPrivileged(true)
		set = true
	}
	if len(s.CapAdd) > 0 || len(s.CapDrop) > 0 {
		caps := corev1ac.Capabilities()
		for _, c := range s.CapAdd {
			caps.WithAdd(corev1.Capability(strings.TrimPrefix(c, "CAP_")))
		}
		for _, c := range s.CapDrop {
			caps.WithDrop(corev1.Capability(strings.TrimPrefix(c, "CAP_")))
		}
		sc.WithCapabilities(caps)
		set = true
	}
	if !set {
		return nil
	}
	return sc
}

// probes maps the healthcheck to a readiness probe (an exec of its test),
// its start_period to a startup probe that gives the container that long
// (plus the retries) to pass once, and x-stack.kubernetes.liveness to a
// liveness probe.
func (m *mapper) probes(s types.ServiceConfig, c *corev1ac.ContainerApplyConfiguration) {
	h := s.HealthCheck
	if h != nil && !h.Disable && len(h.Test) > 0 && h.Test[0] != "NONE" {
		period := m.probeSeconds(s.Name, "healthcheck.interval", h.Interval, 30*time.Second)
		ready := m.probe(s.Name, "healthcheck", []string(h.Test), period, m.probeSeconds(s.Name, "healthcheck.timeout", h.Timeout, 30*time.Second), retries(h.Retries))
		c.WithReadinessProbe(ready)
		if h.StartPeriod != nil && *h.StartPeriod > 0 {
			startPeriod := period
			if h.StartInterval != nil && *h.StartInterval > 0 {
				startPeriod = m.probeSeconds(s.Name, "healthcheck.start_interval", h.StartInterval, 5*time.Second)
			}
			window := time.Duration(*h.StartPeriod)
			attempts := int32(math.Ceil(window.Seconds()/float64(startPeriod))) + *ready.FailureThreshold
			c.WithStartupProbe(m.probe(s.Name, "healthcheck", []string(h.Test), startPeriod, *ready.TimeoutSeconds, attempts))
		}
	}
	l := m.p.KubernetesFor(s.Name).Liveness
	switch {
	case l == nil:
	case l.Healthcheck && c.ReadinessProbe != nil:
		live := *c.ReadinessProbe
		c.WithLivenessProbe(&live)
	case l.Probe != nil:
		field := manifest.ExtensionKey + ".kubernetes.liveness"
		pr := l.Probe
		period := m.probeSeconds(s.Name, field+".interval", parseDuration(pr.Interval), 30*time.Second)
		timeout := m.probeSeconds(s.Name, field+".timeout", parseDuration(pr.Timeout), 30*time.Second)
		n := int32(3)
		if pr.Retries > 0 {
			n = int32(pr.Retries)
		}
		live := m.probe(s.Name, field, pr.Test, period, timeout, n)
		if d := parseDuration(pr.StartPeriod); d != nil {
			live.WithInitialDelaySeconds(int32(seconds(d)))
		}
		c.WithLivenessProbe(live)
	}
}

// probe is an exec probe of a compose test: CMD runs its arguments,
// CMD-SHELL its command through /bin/sh -c.
func (m *mapper) probe(service, field string, test []string, period, timeout, failures int32) *corev1ac.ProbeApplyConfiguration {
	var cmd []string
	switch test[0] {
	case "CMD":
		cmd = test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}
	default:
		cmd = []string{"/bin/sh", "-c", strings.Join(test, " ")}
	}
	return corev1ac.Probe().WithExec(corev1ac.ExecAction().WithCommand(cmd...)).
		WithPeriodSeconds(period).WithTimeoutSeconds(timeout).WithFailureThreshold(failures)
}

// probeSeconds is a probe's duration in whole seconds, at least 1: a
// fraction is rounded up, with a warning.
func (m *mapper) probeSeconds(service, field string, d *types.Duration, def time.Duration) int32 {
	v := def
	if d != nil && *d > 0 {
		v = time.Duration(*d)
	}
	secs := int32(math.Ceil(v.Seconds()))
	if secs < 1 {
		secs = 1
	}
	if time.Duration(secs)*time.Second != v {
		m.warn(service, field, fmt.Sprintf("probes count whole seconds: %s is %ds", v, secs))
	}
	return secs
}

func retries(r *uint64) int32 {
	if r == nil || *r == 0 {
		return 3
	}
	return int32(*r)
}

func seconds(d *types.Duration) int64 {
	return int64(math.Ceil(time.Duration(*d).Seconds()))
}

// parseDuration reads a duration Load has checked; nil when empty.
func parseDuration(s string) *types.Duration {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil
	}
	td := types.Duration(d)
	return &td
}
