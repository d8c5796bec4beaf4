package registry_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// Intent: a release deploys whole or not at all.
//
// Model: three services a, b, c, each built FROM busybox with a version
// file and a healthcheck; staging's registry on loopback.
//
// Steps:
//
//	release v1; up --env staging --lock current  -> a, b, c run v1
//	every version bumped, c's healthcheck made to fail; release v2
//	up --env staging --lock current              -> exit 1 naming c; a, b
//	                                                and c run v1's images
//	                                                again, each once
//	releases --env staging                       -> v2 failed, v1 running
func TestLockDeployIsAllOrNothing(t *testing.T) {
	e2e.Engine(t)
	staging := e2e.StartRegistry(t)
	staging.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	e2e.RemoveAtCleanup(t, project+"-staging")
	dir := t.TempDir()
	files := map[string]string{"compose.yaml": `name: ` + project + `
x-stack:
  environments:
    staging:
      registry: ` + staging.Host + `/shop
services:
`}
	for _, s := range []string{"a", "b", "c"} {
		files["compose.yaml"] += "  " + s + ":\n    build: ./" + s + "\n    init: true\n"
		files[s+"/Dockerfile"] = "FROM busybox:stable\nCOPY version /version\nHEALTHCHECK --interval=500ms --retries=3 CMD test -f /version\nCMD [\"sleep\", \"3600\"]\n"
		files[s+"/version"] = "1\n"
	}
	e2e.WriteFiles(t, dir, files)
	cmd := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + e2e.DockerConfig(t, staging)}}
	cmd.MustRun(t, "release", "--env", "staging", "--tag", "v1")
	cmd.MustRun(t, "up", "--env", "staging", "--lock", "current")
	v1 := runningImages(t, project+"-staging")
	if len(v1) != 3 {
		t.Fatalf("v1 runs %v, want a, b and c", v1)
	}

	for _, s := range []string{"a", "b", "c"} {
		files[s+"/version"] = "2\n"
	}
	files["c/Dockerfile"] = strings.Replace(files["c/Dockerfile"], "test -f /version", "false", 1)
	e2e.WriteFiles(t, dir, files)
	cmd.MustRun(t, "release", "--env", "staging", "--tag", "v2")
	r := cmd.Run(t, "up", "--env", "staging", "--lock", "current")
	if r.Code != 1 || !strings.Contains(r.Stderr, `"c"`) || !strings.Contains(r.Stderr, "unhealthy") {
		t.Fatalf("up of a release whose c never turns healthy: exit %d, want 1 naming c", r.Code)
	}
	if after := runningImages(t, project+"-staging"); !sameImages(after, v1) {
		t.Errorf("after the failed release: %v, want v1's %v", after, v1)
	}
	releases := cmd.MustRun(t, "releases", "--env", "staging").Stdout
	for _, want := range [][]string{{"v2 ", "failed "}, {"v1 ", "running"}} {
		found := false
		for _, line := range strings.Split(releases, "\n") {
			found = found || (strings.HasPrefix(line, want[0]) && strings.Contains(line, want[1]))
		}
		if !found {
			t.Errorf("releases does not say %s is %s:\n%s", want[0], want[1], releases)
		}
	}
}

// runningImages maps each running container of project to its image ID.
func runningImages(t *testing.T, project string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := e2e.Docker(t, "ps", "--filter", "label=io.stack.project="+project, "--format", "{{.Names}}")
	for _, name := range strings.Fields(lines) {
		out[name] = e2e.Docker(t, "inspect", "-f", "{{.Image}}", name)
	}
	return out
}

func sameImages(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
