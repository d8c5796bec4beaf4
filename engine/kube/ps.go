package kube

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
)

var _ engine.Lister = (*Driver)(nil)

// Ps lists the project's pods (with all, those that ended too: a Job's),
// each with its service, the node it is on, its state (running, created
// while pending, exited once it ended), whether it is ready (healthy, or
// starting), its restarts and why it cannot run, and the gateway's routes
// it receives (Traffic; "gateway" for the gateway's pods), sorted by
// service and name.
func (d *Driver) Ps(ctx context.Context, project string, all bool) ([]engine.Status, error) {
	pods, err := d.client.CoreV1().Pods(d.leaseNamespace(project)).List(ctx, metav1.ListOptions{LabelSelector: engine.LabelProject + "=" + project})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", project, err)
	}
	d.listed.keep(pods.Items)
	routes := d.servedRoutes(ctx, project, pods.Items)
	var out []engine.Status
	for _, p := range pods.Items {
		st := podStatus(p)
		if podReady(p) && p.DeletionTimestamp == nil && st.Service != "" {
			st.Traffic = routes[st.Service]
		}
		if !all && st.State == "exited" {
			continue
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// podStatus is one pod in ps's terms.
func podStatus(p corev1.Pod) engine.Status {
	st := engine.Status{Container: engine.Container{ID: string(p.UID), Name: p.Name, Service: p.Labels[engine.LabelService], Created: p.CreationTimestamp.Time}, Node: p.Spec.NodeName}
	if p.Labels[LabelGateway] == "true" {
		st.Traffic = []string{"gateway"}
	}
	if n, err := strconv.Atoi(p.Labels["apps.kubernetes.io/pod-index"]); err == nil {
		st.Number = n
	}
	switch p.Status.Phase {
	case corev1.PodRunning:
		st.State = "running"
	case corev1.PodSucceeded, corev1.PodFailed:
		st.State = "exited"
	default:
		st.State = "created"
	}
	if p.DeletionTimestamp != nil {
		st.State = "removing"
	}
	if len(p.Spec.Containers) > 0 {
		st.Image = p.Spec.Containers[0].Image
		if p.Spec.Containers[0].ReadinessProbe != nil && st.State == "running" {
			st.Health = "starting"
		}
		for _, port := range p.Spec.Containers[0].Ports {
			st.Ports = append(st.Ports, fmt.Sprintf("%d/%s", port.ContainerPort, strings.ToLower(string(port.Protocol))))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && st.Health == "starting" {
			st.Health = "healthy"
		}
	}
	var problems []string
	for _, cs := range p.Status.ContainerStatuses {
		if r := cs.State.Running; r != nil {
			st.Started = r.StartedAt.Time
		}
		if t := cs.State.Terminated; t != nil {
			st.ExitCode = int(t.ExitCode)
		}
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
			problems = append(problems, w.Reason+": "+w.Message)
		}
		if cs.RestartCount > 0 {
			problems = append(problems, fmt.Sprintf("%d restarts", cs.RestartCount))
		}
	}
	if why := podTrouble([]corev1.Pod{p}, st.Service, ""); why != "" && len(problems) == 0 {
		problems = append(problems, why)
	}
	st.Error = strings.Join(problems, "; ")
	return st
}

// servedRoutes are the routes of each service as the project's gateway
// runs them (read from its ConfigMap), when pods holds a gateway's; none
// otherwise. A ready pod of a routed service receives its routes' traffic
// through its Service. Ps lists the pods without it when the ConfigMap
// cannot be read.
func (d *Driver) servedRoutes(ctx context.Context, project string, pods []corev1.Pod) map[string][]string {
	if !slices.ContainsFunc(pods, func(p corev1.Pod) bool { return p.Labels[LabelGateway] == "true" }) {
		return nil
	}
	cm, err := d.client.CoreV1().ConfigMaps(d.leaseNamespace(project)).Get(ctx, GatewayName, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	routes, err := gateway.Routes([]byte(cm.Data[gatewayConfigKey]))
	if err != nil {
		return nil
	}
	return routes
}
