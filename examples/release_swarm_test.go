package examples_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// releaseSwarm is examples/release's manifest with prod on the lab's
// Swarm: staging and prod are repositories of the lab registry (the one
// the nodes pull from), prod's engine is the manager.
const releaseSwarm = `
name: %[1]s
services:
  hello:
    build: .
    environment:
      ENVIRONMENT: ${ENVIRONMENT:-dev}
    ports: [{target: 8080, mode: host}]
    healthcheck: {test: ["CMD", "/hello", "-healthcheck"], interval: 1s, timeout: 2s, retries: 30}
    stop_grace_period: 2s
    deploy: {endpoint_mode: dnsrr}
x-stack:
  environments:
    staging: {registry: "%[3]s/%[1]s/staging", env_file: staging.env}
    prod: {registry: "%[3]s/%[1]s/prod", env_file: prod.env, orchestrator: swarm, host: "%[2]s", project: "%[1]s"}
`

// TestReleaseToSwarm: a release made once is promoted to prod, a Swarm,
// and runs there by digest; rolling back is deploying the older lock.
//
//	stack release --env staging --tag v1    -> staging's lock
//	stack promote staging prod              -> prod's lock, the same digest in prod's repository
//	stack up --env prod --lock current      -> the service runs prod-repo@digest: 1.0.0 in prod
//	the same again                          -> no service update
//	VERSION 1.1.0: release v2, promote, up  -> 1.1.0
//	stack up --env prod --lock <v1's lock>  -> 1.0.0 again; releases says v1 runs
func TestReleaseToSwarm(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	dir := copyExample(t, "release")
	t.Cleanup(func() { removeImagesOf(t, lab.Registry+"/"+project+"/") })
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": fmt.Sprintf(releaseSwarm, project, lab.Host, lab.Registry)})
	stack := e2e.Cmd{Dir: dir}
	prodRepo := lab.Registry + "/" + project + "/prod/hello@"
	lockPath := func(r e2e.Result) string {
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		return lines[len(lines)-1]
	}
	running := func() string {
		return lab.Docker(t, 0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", project+"_hello")
	}
	hello := func(wantVersion string) {
		t.Helper()
		tasks := psTasks(t, e2e.Cmd{Dir: dir, Env: []string{"STACK_ENV=prod"}}).of("hello")
		if len(tasks) != 1 {
			t.Fatalf("%d hello tasks running, want 1", len(tasks))
		}
		var got struct{ Environment, Version string }
		callJSON(t, "GET", "http://"+tasks[0].addr(t)+"/", "", http.StatusOK, &got)
		if got.Environment != "prod" || got.Version != wantVersion {
			t.Errorf("hello answers %+v, want prod %s", got, wantVersion)
		}
	}

	staging := readLock(t, lockPath(stack.MustRun(t, "release", "--env", "staging", "--tag", "v1")))
	digest := staging.digest(t, lab.Registry+"/"+project+"/staging/hello@")
	v1 := lockPath(stack.MustRun(t, "promote", "staging", "prod"))
	if got := readLock(t, v1).digest(t, prodRepo); got != digest {
		t.Fatalf("prod's lock pins %s, staging's %s", got, digest)
	}
	stack.MustRun(t, "up", "--env", "prod", "--lock", "current")
	if got := running(); got != prodRepo+digest {
		t.Errorf("prod runs %s, want %s", got, prodRepo+digest)
	}
	hello("1.0.0")
	version := lab.Docker(t, 0, "service", "inspect", "--format", "{{.Version.Index}}", project+"_hello")
	stack.MustRun(t, "up", "--env", "prod", "--lock", "current")
	if again := lab.Docker(t, 0, "service", "inspect", "--format", "{{.Version.Index}}", project+"_hello"); again != version {
		t.Errorf("deploying the same lock again updated the service: version %s, then %s", version, again)
	}

	if err := os.WriteFile(filepath.Join(dir, "VERSION"), []byte("1.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stack.MustRun(t, "release", "--env", "staging", "--tag", "v2")
	stack.MustRun(t, "promote", "staging", "prod")
	stack.MustRun(t, "up", "--env", "prod", "--lock", "current")
	hello("1.1.0")

	stack.MustRun(t, "up", "--env", "prod", "--lock", v1)
	hello("1.0.0")
	releases := stack.MustRun(t, "releases", "--env", "prod").Stdout
	for _, line := range strings.Split(releases, "\n") {
		if strings.HasPrefix(line, "v1 ") && !strings.Contains(line, "running") || strings.HasPrefix(line, "v2 ") && strings.Contains(line, "running") {
			t.Errorf("after rolling back, releases should say v1 runs, v2 not:\n%s", releases)
		}
	}
}
