package cli_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestPullE2E: `stack pull` fetches the images of services that are not
// built, from a registry that wants the Docker config's credentials, even
// when the engine has them; `up --pull never` refuses a missing image before
// anything is created.
//
// Model: box (image in an authenticated test registry), app (build only).
//
//	stack pull                 -> box's image on the engine; the registry was asked
//	stack pull (again)         -> asked again: pull means always
//	stack pull app             -> error: app is built, not pulled
//	(image removed) up --pull never -> exit 1 naming box and its image; no container
func TestPullE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	cfg := e2e.DockerConfig(t, reg)
	name := e2e.ProjectName(t)
	ref := reg.Ref("mirror/box:" + name)
	e2e.Docker(t, "tag", "busybox:stable", ref)
	e2e.Docker(t, "--config", cfg, "push", ref)
	e2e.Docker(t, "rmi", ref)
	t.Cleanup(func() { e2e.Docker(t, "rmi", ref) })

	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":   "name: " + name + "\nservices:\n  box:\n    image: " + ref + "\n    command: [sleep, '60']\n  app:\n    build: ./app\n",
		"app/Dockerfile": "FROM busybox:stable\n",
	})
	stack := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + cfg}}

	reg.Reset()
	stack.MustRun(t, "pull")
	if id := e2e.Docker(t, "image", "inspect", "--format", "{{.Id}}", ref); id == "" {
		t.Fatalf("stack pull: %s is not on the engine", ref)
	}
	if reg.Stats().Requests == 0 {
		t.Error("stack pull asked the registry nothing")
	}
	reg.Reset()
	stack.MustRun(t, "pull")
	if reg.Stats().Requests == 0 {
		t.Error("a second stack pull did not ask the registry: pull means always")
	}

	if r := stack.Run(t, "pull", "app"); r.Code != 1 || !strings.Contains(r.Stderr, `service "app" has a build section`) {
		t.Errorf("stack pull app: exit %d, stderr %q", r.Code, r.Stderr)
	}

	e2e.Docker(t, "rmi", ref)
	r := stack.Run(t, "up", "--pull", "never", "box")
	if r.Code != 1 || !strings.Contains(r.Stderr, `service "box"`) || !strings.Contains(r.Stderr, ref) {
		t.Errorf("up --pull never with the image missing: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if ids := e2e.Docker(t, "ps", "-aq", "--filter", "label="+e2e.Label+"="+name); ids != "" {
		t.Errorf("up --pull never created containers: %s", ids)
	}
}
