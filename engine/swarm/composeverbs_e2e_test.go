package swarm_test

import (
	"fmt"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

const verbsCompose = `
name: %[1]s
services:
  web:
    image: %[2]s
    init: true
    command: [sleep, "3600"]
    deploy: {endpoint_mode: dnsrr}
    develop:
      watch:
        - {action: sync, path: ./src, target: /src}
x-stack:
  environments:
    cluster: {orchestrator: swarm, host: "%[3]s", project: "%[1]s"}
`

// TestComposeVerbsOnSwarm: the verbs Compose users reach for work on a
// Swarm or say why they cannot, and a refusal changes nothing. scale
// converges the service's replicas; attach, export and commit act on one
// engine's container and are refused naming the orchestrator; watch's
// sync and a foreground up are refused before anything converges (the
// scale of 2 the manifest does not say stays).
func TestComposeVerbsOnSwarm(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": fmt.Sprintf(verbsCompose, project, lab.Image(t, "busybox:stable"), lab.Host),
		"src/index":    "v1",
	})
	stack := e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=cluster"}}
	stack.MustRun(t, "up")
	stack.MustRun(t, "scale", "web=2")
	if n := len(tasksOf(t, lab, project+"_web")); n != 2 {
		t.Fatalf("after scale web=2: %d tasks, want 2", n)
	}
	e2e.RefusesOneEngineVerbs(t, stack, "swarm")
	if n := len(tasksOf(t, lab, project+"_web")); n != 2 {
		t.Errorf("after the refusals: %d tasks, want the 2 scale left", n)
	}
}
