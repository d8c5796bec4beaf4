package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

const verbsCompose = `
services:
  web:
    image: IMAGE
    command: [sleep, "3600"]
    stop_grace_period: 1s
    develop:
      watch:
        - {action: sync, path: ./src, target: /src}
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: NAMESPACE}
`

// TestComposeVerbsOnKubernetes: the verbs Compose users reach for work on
// a cluster or say why they cannot, and a refusal changes nothing. scale
// converges the Deployment's replicas; attach, export and commit act on
// one engine's container and are refused naming the orchestrator; watch's
// sync and a foreground up are refused before anything converges (the
// scale of 2 the manifest does not say stays).
func TestComposeVerbsOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	compose := strings.NewReplacer("NAMESPACE", ns, "IMAGE", lab.Image(t, "busybox:stable")).Replace(verbsCompose)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" + compose, "src/index": "v1"})
	stack := e2e.Cmd{Dir: dir, Env: append(lab.Env(), "STACK_ENV=lab")}
	stack.MustRun(t, "up", "--timeout", "180s")
	stack.MustRun(t, "scale", "web=2")
	replicas := func() string {
		return lab.Kubectl(t, "-n", ns, "get", "deploy/web", "-o", "jsonpath={.spec.replicas}/{.status.readyReplicas}")
	}
	if got := replicas(); got != "2/2" {
		t.Fatalf("after scale web=2: replicas/ready %s, want 2/2", got)
	}
	e2e.RefusesOneEngineVerbs(t, stack, "kubernetes")
	if got := replicas(); got != "2/2" {
		t.Errorf("after the refusals: replicas/ready %s, want the 2 scale left", got)
	}
}
