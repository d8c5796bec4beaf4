package kube

import (
	"slices"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// TestOneOffJob: a one-off is the service's pod template run once, its
// command, entrypoint and environment as given (a $ kept from Kubernetes'
// expansion), without probes or ports, labelled a one-off, mounting
// replica 0's claim of its per-replica volume; the service's own template
// is left as it was.
func TestOneOffJob(t *testing.T) {
	s := mapOne(t, `
name: p
services:
  s:
    image: busybox
    command: ["serve"]
    ports: ["8080"]
    volumes: [data:/data]
    healthcheck: {test: ["CMD", "true"]}
volumes:
  data: {}
`, Options{})
	job := oneOffJob(s, "p", engine.RunOptions{Command: []string{"echo", "$(HOME)"}, Entrypoint: []string{"sh", "-c"}, Env: []string{"A=1"}})
	if !slices.Equal(s.template().Spec.Containers[0].Args, []string{"serve"}) {
		t.Errorf("the service's template changed: args %v", s.template().Spec.Containers[0].Args)
	}
	pod := job.Spec.Template.Spec
	c := pod.Containers[0]
	if !slices.Equal(c.Args, []string{"echo", "$$(HOME)"}) || !slices.Equal(c.Command, []string{"sh", "-c"}) {
		t.Errorf("command %v args %v", c.Command, c.Args)
	}
	if e := c.Env[len(c.Env)-1]; *e.Name != "A" || *e.Value != "1" {
		t.Errorf("last env %s=%s, want A=1", *e.Name, *e.Value)
	}
	if c.ReadinessProbe != nil || len(c.Ports) != 0 || *pod.RestartPolicy != "Never" || *job.Spec.BackoffLimit != 0 {
		t.Errorf("probe %v, ports %v, restart %v, backoff %v", c.ReadinessProbe, c.Ports, *pod.RestartPolicy, *job.Spec.BackoffLimit)
	}
	if job.Labels[engine.LabelOneoff] != "true" || job.Spec.Template.Labels[engine.LabelService] != "s" || job.Spec.Template.Annotations[engine.LabelConfigHash] != "" {
		t.Errorf("labels %v, template labels %v annotations %v", job.Labels, job.Spec.Template.Labels, job.Spec.Template.Annotations)
	}
	claim := ""
	for _, v := range pod.Volumes {
		if *v.Name == "data" && v.PersistentVolumeClaim != nil {
			claim = *v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "data-s-0" {
		t.Errorf("the one-off mounts claim %q, want replica 0's data-s-0", claim)
	}
}
