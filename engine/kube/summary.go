package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// Summary says in one line what the service becomes, for `stack plan` to
// show beside the service: "StatefulSet, 2 replicas, a claim of pgdata
// (20Gi) each; Service db, headless".
func (s Service) Summary() string {
	var parts []string
	switch s.Kind {
	case Deployment:
		parts = append(parts, fmt.Sprintf("Deployment, %s", replicas(s.Deployment.Spec.Replicas)))
		if st := s.Deployment.Spec.Strategy; st != nil && st.Type != nil && *st.Type == "Recreate" {
			parts[0] += ", recreated on update"
		}
	case StatefulSet:
		p := fmt.Sprintf("StatefulSet, %s", replicas(s.StatefulSet.Spec.Replicas))
		for _, t := range s.StatefulSet.Spec.VolumeClaimTemplates {
			p += fmt.Sprintf(", a claim of %s (%s) each", *t.Name, storage(t.Spec))
		}
		parts = append(parts, p)
	case Job:
		parts = append(parts, fmt.Sprintf("Job, %d to complete", *s.Job.Spec.Completions))
	case DaemonSet:
		parts = append(parts, "DaemonSet, a pod on every node")
	}
	parts = append(parts, "Service "+serviceSummary(s.Service))
	if s.Published != nil {
		parts = append(parts, "Service "+serviceSummary(s.Published))
	}
	return strings.Join(parts, "; ")
}

func replicas(n *int32) string {
	if n == nil || *n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", *n)
}

func storage(spec *corev1ac.PersistentVolumeClaimSpecApplyConfiguration) string {
	if spec == nil || spec.Resources == nil || spec.Resources.Requests == nil {
		return "?"
	}
	q := (*spec.Resources.Requests)[corev1.ResourceStorage]
	return q.String()
}

// serviceSummary is "db, headless", "api, ClusterIP 8080/tcp" or
// "api-published, NodePort 30080/tcp".
func serviceSummary(svc *corev1ac.ServiceApplyConfiguration) string {
	spec := svc.Spec
	kind := "ClusterIP"
	switch {
	case spec.ClusterIP != nil && *spec.ClusterIP == corev1.ClusterIPNone:
		kind = "headless"
	case spec.Type != nil:
		kind = string(*spec.Type)
	}
	var ports []string
	for _, p := range spec.Ports {
		n := *p.Port
		if p.NodePort != nil {
			n = *p.NodePort
		}
		ports = append(ports, fmt.Sprintf("%d/%s", n, strings.ToLower(string(*p.Protocol))))
	}
	out := *svc.Name + ", " + kind
	if len(ports) > 0 {
		out += " " + strings.Join(ports, ",")
	}
	return out
}
