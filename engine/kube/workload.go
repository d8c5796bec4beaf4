package kube

import (
	"errors"
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/stack-deploy/stack/engine"
)

// service maps one compose service: its workload, its Services and its
// hash. ok is false when its name cannot be a Kubernetes name (reported).
func (m *mapper) service(s types.ServiceConfig) (Service, bool) {
	if !isServiceName(s.Name) {
		return Service{}, false
	}
	if img, ok := m.opts.Images[s.Name]; ok {
		s.Image = img
	} else {
		s.Image = m.p.ImageName(s.Name)
	}
	out := Service{Name: s.Name}
	// A secret or config that cannot be read is reported once, at its
	// definition (files.go).
	hash, err := engine.ConfigHash(m.p.Project, s, "")
	if err != nil && !errors.Is(err, engine.ErrFileSource) {
		m.fail(s.Name, "secrets", ErrInvalid, err.Error(), "make every secret and config it uses readable")
	}
	out.Hash = hash
	m.unsupported(s)
	pm := m.mounts(s)
	templates := pm.templates
	pod := m.podSpec(s, pm.vols, pm.mounts)
	annotations := map[string]string{engine.LabelConfigHash: hash.Sum, engine.LabelConfigParts: hash.PartsLabel()}
	template := corev1ac.PodTemplateSpec().WithLabels(m.labels(s.Name)).WithAnnotations(annotations).WithSpec(pod)
	if extra := m.annotations(s.Name, "labels", s.Labels); len(extra) > 0 {
		template.WithAnnotations(extra)
	}
	meta := m.annotations(s.Name, "deploy.labels", deployLabels(s))
	meta[engine.LabelConfigHash] = hash.Sum
	selector := metav1ac.LabelSelector().WithMatchLabels(m.selector(s.Name))
	replicas := int32(s.GetScale())

	switch {
	case m.jobs[s.Name]:
		out.Kind = Job
		pod.WithRestartPolicy(corev1.RestartPolicyNever)
		spec := batchv1ac.JobSpec().WithTemplate(template).WithBackoffLimit(m.backoffLimit(s)).
			WithCompletions(replicas).WithParallelism(replicas)
		out.Job = batchv1ac.Job(s.Name, m.ns).WithLabels(m.labels(s.Name)).WithAnnotations(meta).WithSpec(spec)
	case m.global[s.Name]:
		out.Kind = DaemonSet
		m.alwaysRestarts(s)
		spec := appsv1ac.DaemonSetSpec().WithSelector(selector).WithTemplate(template)
		if surge, unavailable, ok := m.steps(s); ok {
			spec.WithUpdateStrategy(appsv1ac.DaemonSetUpdateStrategy().WithType(appsv1.RollingUpdateDaemonSetStrategyType).
				WithRollingUpdate(appsv1ac.RollingUpdateDaemonSet().WithMaxSurge(surge).WithMaxUnavailable(unavailable)))
		}
		out.DaemonSet = appsv1ac.DaemonSet(s.Name, m.ns).WithLabels(m.labels(s.Name)).WithAnnotations(meta).WithSpec(spec)
	case len(templates) > 0:
		out.Kind = StatefulSet
		if len(s.Name) > maxStatefulSetName {
			m.fail(s.Name, "volumes", ErrInvalidName,
				fmt.Sprintf("a service with a ReadWriteOnce volume is a StatefulSet, whose name must leave room for its pods' (at most %d characters; %q has %d)", maxStatefulSetName, s.Name, len(s.Name)),
				"shorten the service's name, or give the volume access ReadWriteMany")
		}
		m.alwaysRestarts(s)
		spec := appsv1ac.StatefulSetSpec().WithReplicas(replicas).WithSelector(selector).WithTemplate(template).
			WithServiceName(s.Name).WithPodManagementPolicy(appsv1.ParallelPodManagement).
			WithVolumeClaimTemplates(templates...)
		m.statefulUpdate(s)
		out.StatefulSet = appsv1ac.StatefulSet(s.Name, m.ns).WithLabels(m.labels(s.Name)).WithAnnotations(meta).WithSpec(spec)
	default:
		out.Kind = Deployment
		m.alwaysRestarts(s)
		spec := appsv1ac.DeploymentSpec().WithReplicas(replicas).WithSelector(selector).WithTemplate(template)
		if strategy := m.strategy(s); strategy != nil {
			spec.WithStrategy(strategy)
		}
		out.Deployment = appsv1ac.Deployment(s.Name, m.ns).WithLabels(m.labels(s.Name)).WithAnnotations(meta).WithSpec(spec)
	}
	out.Service, out.Published = m.services(s)
	return out, true
}

// podSpec is the pod of the service: its one container, its volumes, and
// what compose sets for the whole sandbox.
func (m *mapper) podSpec(s types.ServiceConfig, vols []*corev1ac.VolumeApplyConfiguration, mounts []*corev1ac.VolumeMountApplyConfiguration) *corev1ac.PodSpecApplyConfiguration {
	c := m.container(s).WithVolumeMounts(mounts...)
	pod := corev1ac.PodSpec().WithContainers(c).WithVolumes(vols...)
	if s.StopGracePeriod != nil {
		pod.WithTerminationGracePeriodSeconds(seconds(s.StopGracePeriod))
	}
	if s.Hostname != "" {
		pod.WithHostname(s.Hostname)
	}
	byIP := hostsByIP(s.ExtraHosts)
	for _, ip := range sortedKeys(byIP) {
		pod.WithHostAliases(corev1ac.HostAlias().WithIP(ip).WithHostnames(byIP[ip]...))
	}
	if len(s.Sysctls) > 0 {
		sc := corev1ac.PodSecurityContext()
		for _, k := range sortedKeys(s.Sysctls) {
			sc.WithSysctls(corev1ac.Sysctl().WithName(k).WithValue(s.Sysctls[k]))
		}
		pod.WithSecurityContext(sc)
	}
	if sel := m.nodeSelector(s); len(sel) > 0 {
		pod.WithNodeSelector(sel)
	}
	return pod
}

// strategy maps update_config to a Deployment's rolling update: stop-first
// (compose's default) replaces parallelism pods at a time before starting
// theirs (maxSurge 0, maxUnavailable parallelism), start-first starts
// parallelism new pods first (maxSurge parallelism, maxUnavailable 0);
// parallelism 0 is every pod at once. A service that mounts a shared
// ReadWriteOnce claim is recreated. nil: Kubernetes' default, 25% / 25%.
func (m *mapper) strategy(s types.ServiceConfig) *appsv1ac.DeploymentStrategyApplyConfiguration {
	for _, v := range s.Volumes {
		if vol, ok := m.volumes[v.Source]; ok && v.Type == types.VolumeTypeVolume && !vol.perReplica && m.p.KubernetesVolumeFor(v.Source).Access != "ReadWriteMany" {
			return appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType)
		}
	}
	surge, unavailable, ok := m.steps(s)
	if !ok {
		return nil
	}
	return appsv1ac.DeploymentStrategy().WithType(appsv1.RollingUpdateDeploymentStrategyType).
		WithRollingUpdate(appsv1ac.RollingUpdateDeployment().WithMaxSurge(surge).WithMaxUnavailable(unavailable))
}

// steps are a rolling update's maxSurge and maxUnavailable from
// update_config; ok is false when the service has none.
func (m *mapper) steps(s types.ServiceConfig) (surge, unavailable intstr.IntOrString, ok bool) {
	if s.Deploy == nil || s.Deploy.UpdateConfig == nil {
		return surge, unavailable, false
	}
	u := s.Deploy.UpdateConfig
	m.warnUpdate(s.Name, u)
	step := intstr.FromInt32(1)
	if u.Parallelism != nil {
		step = intstr.FromInt32(int32(*u.Parallelism))
		if *u.Parallelism == 0 {
			step = intstr.FromString("100%")
		}
	}
	if u.Order == "start-first" {
		return step, intstr.FromInt32(0), true
	}
	return intstr.FromInt32(0), step, true
}

// statefulUpdate warns about the update_config a StatefulSet cannot follow:
// it replaces one pod at a time, stopping it first, so that no two pods
// ever hold one replica's claim.
func (m *mapper) statefulUpdate(s types.ServiceConfig) {
	if s.Deploy == nil || s.Deploy.UpdateConfig == nil {
		return
	}
	u := s.Deploy.UpdateConfig
	m.warnUpdate(s.Name, u)
	if u.Parallelism != nil && *u.Parallelism != 1 {
		m.warn(s.Name, "deploy.update_config.parallelism", "a StatefulSet replaces one pod at a time")
	}
	if u.Order == "start-first" {
		m.warn(s.Name, "deploy.update_config.order", "a StatefulSet stops a pod before starting its replacement, which needs the same claim")
	}
}

func (m *mapper) warnUpdate(service string, u *types.UpdateConfig) {
	if u.Delay != 0 || u.Monitor != 0 {
		m.warn(service, "deploy.update_config.delay/monitor", "a rollout moves on as soon as the new pods are ready")
	}
	// rollback (the default) is the driver's undo, pause leaves a failed
	// rollout as Kubernetes holds it (restore.go).
	if u.FailureAction == "continue" {
		m.warn(service, "deploy.update_config.failure_action", "a rollout does not go on past pods that fail: continue is as pause, the failed rollout stays as it is")
	}
	if u.MaxFailureRatio != 0 {
		m.warn(service, "deploy.update_config.max_failure_ratio", "any pod that cannot become ready fails the rollout")
	}
}

// alwaysRestarts warns when the service asks not to be restarted: the pods
// of a Deployment, StatefulSet or DaemonSet always are.
func (m *mapper) alwaysRestarts(s types.ServiceConfig) {
	const why = "the pods of a Deployment or StatefulSet always restart; a service that runs to completion is a Job when another depends on it with service_completed_successfully"
	if rp := restartPolicy(s); rp != nil {
		if rp.Condition == "none" || rp.Condition == "on-failure" {
			m.warn(s.Name, "deploy.restart_policy.condition", why)
		}
		if rp.MaxAttempts != nil || rp.Delay != nil || rp.Window != nil {
			m.warn(s.Name, "deploy.restart_policy", "the kubelet restarts with its own back-off, without limit")
		}
		return
	}
	if s.Restart == types.RestartPolicyNo || strings.HasPrefix(s.Restart, types.RestartPolicyOnFailure) {
		m.warn(s.Name, "restart", why)
	}
}

// backoffLimit is how often a Job's pod is retried: max_attempts when
// given, none when the service must not restart (compose's default), else
// Kubernetes' default of 6.
func (m *mapper) backoffLimit(s types.ServiceConfig) int32 {
	if rp := restartPolicy(s); rp != nil {
		switch {
		case rp.MaxAttempts != nil:
			return int32(*rp.MaxAttempts)
		case rp.Condition == "none":
			return 0
		}
		return 6
	}
	restart, attempts, _ := strings.Cut(s.Restart, ":")
	switch restart {
	case "", types.RestartPolicyNo:
		return 0
	case types.RestartPolicyOnFailure:
		var n int32
		if _, err := fmt.Sscanf(attempts, "%d", &n); err == nil {
			return n
		}
	}
	return 6
}

func restartPolicy(s types.ServiceConfig) *types.RestartPolicy {
	if s.Deploy == nil {
		return nil
	}
	return s.Deploy.RestartPolicy
}

func deployLabels(s types.ServiceConfig) map[string]string {
	if s.Deploy == nil {
		return nil
	}
	return s.Deploy.Labels
}

// annotations carries compose labels as annotations: a label's value may be
// anything in compose, and only short, plain ones in Kubernetes. A key that
// no annotation can have is a warning.
func (m *mapper) annotations(service, field string, labels map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range sortedKeys(labels) {
		if !isAnnotationKey(k) {
			m.warn(service, field+"."+k, "not a Kubernetes annotation key (a qualified name: [prefix/]name, the name at most 63 characters)")
			continue
		}
		out[k] = labels[k]
	}
	return out
}

// nodeSelector maps deploy.placement constraints of the form
// node.labels.KEY==VALUE; the others are warnings.
func (m *mapper) nodeSelector(s types.ServiceConfig) map[string]string {
	if s.Deploy == nil {
		return nil
	}
	sel := map[string]string{}
	for _, c := range s.Deploy.Placement.Constraints {
		k, v, ok := strings.Cut(c, "==")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if label, isLabel := strings.CutPrefix(k, "node.labels."); ok && isLabel {
			sel[label] = v
			continue
		}
		m.warn(s.Name, "deploy.placement.constraints "+c, "only node.labels.KEY==VALUE becomes a nodeSelector")
	}
	if len(s.Deploy.Placement.Preferences) > 0 || s.Deploy.Placement.MaxReplicas > 0 {
		m.warn(s.Name, "deploy.placement.preferences/max_replicas_per_node", "spread pods with topologySpreadConstraints, which compose has no words for")
	}
	return sel
}

// hostsByIP turns extra_hosts (host -> addresses) into the hostnames of
// each address, sorted, as hostAliases list them.
func hostsByIP(h types.HostsList) map[string][]string {
	out := map[string][]string{}
	for _, host := range sortedKeys(map[string][]string(h)) {
		for _, ip := range h[host] {
			out[ip] = append(out[ip], host)
		}
	}
	return out
}
