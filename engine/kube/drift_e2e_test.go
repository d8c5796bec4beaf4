package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestDriftSeenByPlan: an object edited with kubectl is seen by plan and
// put right by up; what stack never set is no drift.
//
// Model: web, environment GREETING=one-1.
//
// Steps: up -> kubectl rollout restart web -> plan exits 0 (the restart's
// annotation is not stack's) -> kubectl edit sets GREETING=two-2, kubectl
// scale sets 2 replicas -> plan exits 2 naming the env var, the replicas
// and the managers kubectl-edit and kubectl -> up -> the Deployment has
// GREETING=one-1 and 1 replica again -> plan exits 0.
func TestDriftSeenByPlan(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `name: ` + ns + `
services:
  web:
    image: ` + lab.Image(t, "busybox:stable") + `
    command: [sleep, "3600"]
    environment: {GREETING: one-1}
    stop_grace_period: 1s
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: ` + ns + `}
`})
	stack := e2e.Cmd{Dir: dir, Env: lab.Env()}
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "3m")
	lab.Kubectl(t, "-n", ns, "rollout", "restart", "deploy/web")
	if r := stack.Run(t, "plan", "--env", "lab", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan after kubectl rollout restart: exit %d, want 0\n%s", r.Code, r.Stdout)
	}

	t.Setenv("EDITOR", "sed -i s/one-1/two-2/")
	lab.Kubectl(t, "-n", ns, "edit", "deploy/web")
	lab.Kubectl(t, "-n", ns, "scale", "deploy/web", "--replicas=2")
	env := func() string {
		return lab.Kubectl(t, "-n", ns, "get", "deploy", "web", "-o", `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="GREETING")].value} {.spec.replicas}`)
	}
	if got := env(); got != "two-2 2" {
		t.Fatalf("after kubectl edit and scale web has GREETING and replicas %q, want two-2 2", got)
	}
	r := stack.Run(t, "plan", "--env", "lab", "--detailed-exitcode")
	if r.Code != 2 {
		t.Errorf("plan after kubectl edit and scale: exit %d, want 2\n%s", r.Code, r.Stdout)
	}
	for _, want := range []string{`env[name="GREETING"].value edited outside stack (manager kubectl-edit)`, "spec.replicas edited outside stack (manager kubectl)", "scale 2 -> 1"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.Stdout)
		}
	}
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "3m")
	if got := env(); got != "one-1 1" {
		t.Errorf("after up web has GREETING and replicas %q, want one-1 1", got)
	}
	if r := stack.Run(t, "plan", "--env", "lab", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan after up: exit %d, want 0\n%s", r.Code, r.Stdout)
	}
}
