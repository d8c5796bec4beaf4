package swarm_test

import (
	"encoding/base64"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine/swarm"
	"github.com/stack-deploy/stack/internal/e2e"
)

const privateCompose = `
name: %[1]s
services:
  app:
    build: .
    image: %[2]s/%[1]s/app:1
    init: true
    command: [sleep, "3600"]
    stop_grace_period: 1s
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      placement: {max_replicas_per_node: 1}
x-stack:
  environments:
    cluster: {orchestrator: swarm, host: "%[3]s", project: "%[1]s"}
`

// TestPrivateImageOnSwarm: an image built here and pushed to a registry
// that asks for credentials runs on all three nodes: the credentials the
// Docker config has for it go with the service, as docker's
// --with-registry-auth sends them, and a node pulls with them; without
// them it cannot.
func TestPrivateImageOnSwarm(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	ref := lab.PrivateRegistry + "/" + project + "/app:1"
	t.Cleanup(func() { e2e.Docker(t, "rmi", ref) })
	config := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(lab.PrivateUser + ":" + lab.PrivatePassword))
	e2e.WriteFiles(t, config, map[string]string{"config.json": fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, lab.PrivateRegistry, auth)})
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": fmt.Sprintf(privateCompose, project, lab.PrivateRegistry, lab.Host),
		"Dockerfile":   "FROM busybox:stable\nLABEL io.stack.test=private\n",
	})
	stack := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + config, "STACK_ENV=cluster"}}

	stack.MustRun(t, "up")
	if n := runningTasks(t, lab, swarm.ServiceName(project, "app")); n != 3 {
		t.Fatalf("%d tasks of the private image run, want 3 (one a node)", n)
	}
	image := lab.Docker(t, 0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", swarm.ServiceName(project, "app"))
	if !strings.HasPrefix(image, lab.PrivateRegistry+"/"+project+"/app@sha256:") {
		t.Fatalf("the service runs %q, want the private digest", image)
	}
	// The control: a node pulling from that registry without credentials
	// (an image it has not pulled, or it would not ask) is refused.
	other := lab.PrivateRegistry + strings.TrimPrefix(lab.Image(t, "busybox:stable"), lab.Registry)
	out, err := exec.Command("docker", "-H", lab.Nodes[1].Host, "pull", other).CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "auth") {
		t.Errorf("a pull without credentials: %v, %s; want it refused", err, out)
	}
}
